// What happens to connections before and around requests: the connection limit, the idle timeout
// for connections that never send a request, failed TLS handshakes, and requests the HTTP parser
// refuses (malformed: 400, headers too large: 431, not received in time: 408). Each refusal is one
// log line with a reason code and the peer; TLS failures are named, not OpenSSL's text.
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './log/logger.ts';
import { logRefusal, markRefused, peerOf, wasRefused, type RefusalReason } from '../inbound/refusal.ts';

export interface ConnectionLimits {
  log: Logger;
  tls: boolean;
  maxConnections: number;
  idleTimeoutMs: number;
  pathOf(url: string | undefined): string;
}

/** Reason codes for failed TLS handshakes, from Node's error codes (OpenSSL's text is not logged). */
export function tlsFailureReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'tls-handshake-timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'client-aborted';
  if (/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED/.test(code)) return 'client-rejected-server-certificate';
  if (/HTTP_REQUEST/.test(code)) return 'plain-http-on-tls-port';
  if (/PROTOCOL|VERSION|CIPHER|NO_SHARED/.test(code)) return 'tls-version-or-cipher';
  return 'tls-handshake-failed';
}

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'HPE_INVALID_EOF_STATE']);

const ANSWERS: Record<string, [number, RefusalReason, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request-timeout', 'Request Timeout'],
  HPE_HEADER_OVERFLOW: [431, 'headers-too-large', 'Request Header Fields Too Large'],
};

const BODIES: Record<number, string> = {
  400: 'bad request: not a valid HTTP/1.1 request\n',
  408: 'request timeout: the whole request was not received in time; resend it\n',
  431: 'request header fields too large\n',
};

export function watchConnections(server: Server, limits: ConnectionLimits): void {
  const { log } = limits;
  server.maxConnections = limits.maxConnections;

  // Dropped connections: one warn line per 10 s at most, with how many were dropped.
  let dropped = 0;
  let dropTimer: NodeJS.Timeout | undefined;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    dropped++;
    if (dropTimer) return;
    log.warn({ reason: 'too-many-connections', maxConnections: limits.maxConnections, peer: data?.remoteAddress ?? null }, 'connection refused: the connection limit is reached');
    dropped = 0;
    dropTimer = setTimeout(() => {
      dropTimer = undefined;
      if (dropped) log.warn({ reason: 'too-many-connections', maxConnections: limits.maxConnections, dropped }, 'connections refused in the last 10 s: the connection limit is reached');
      dropped = 0;
    }, 10_000);
    dropTimer.unref();
  });

  // Connections that never send a request are closed after idleTimeoutMs (the HTTP server's own
  // timeout handler destroys the socket; this only stops the clock at the first request).
  const waiting = new WeakSet<Socket>();
  const established = new WeakSet<Socket>();
  server.on(limits.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    established.add(socket);
    waiting.add(socket);
    socket.setTimeout(limits.idleTimeoutMs);
    const peer = peerOf(socket);
    socket.once('timeout', () => {
      if (waiting.has(socket)) log.info({ reason: 'idle-timeout', idleTimeoutMs: limits.idleTimeoutMs, peer }, 'connection closed: no request was sent');
    });
  });
  server.on('request', (req) => {
    if (waiting.delete(req.socket)) req.socket.setTimeout(0);
  });
  server.on('checkContinue', (req) => {
    if (waiting.delete(req.socket)) req.socket.setTimeout(0);
  });

  if (limits.tls) {
    // A failed handshake's socket is already closed when it is reported: the address is taken
    // from the TCP connection when it opens.
    const addresses = new WeakMap<Socket, string | undefined>();
    server.on('connection', (raw: Socket) => addresses.set(raw, raw.remoteAddress));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const reason = tlsFailureReason(err);
      const parent = (socket as Socket & { _parent?: Socket })._parent;
      const peer = peerOf(socket) ?? (parent ? addresses.get(parent) ?? null : null);
      if (reason === 'client-aborted') log.debug({ reason, peer }, 'TLS handshake not completed');
      else log.info({ reason, tlsError: err.code ?? null, peer }, 'TLS handshake failed');
    });
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // HTTPS servers also report failed TLS handshakes here: that connection speaks no HTTP yet, so
    // nothing is written to it (it used to get a bare 400); 'tlsClientError' logs it.
    if (!established.has(socket)) {
      socket.destroy();
      return;
    }
    const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    // The client went away (a reset, or the connection ended mid-request): the request handler,
    // if one was reading the body, logs it as an abort.
    if (CLIENT_GONE.has(err.code ?? '') || wasRefused(socket)) {
      socket.destroy();
      return;
    }
    const [status, reason, phrase] = ANSWERS[err.code ?? ''] ?? [400, 'bad-request', 'Bad Request'];
    if (res?.headersSent) {
      // The answer is already on its way; never write a second status line into it.
      socket.destroy();
      return;
    }
    markRefused(socket);
    logRefusal(log, { status, reason, path: res?.req?.url ? limits.pathOf(res.req.url) : undefined, socket, ...(status === 400 ? { detail: err.code } : {}) });
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = BODIES[status] ?? BODIES[400]!;
    socket.end(`HTTP/1.1 ${status} ${phrase}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const timer = setTimeout(() => socket.destroy(), 1000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
