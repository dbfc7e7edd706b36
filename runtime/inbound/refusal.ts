// One log line per request refused at HTTP level: the status, a stable reason code, the path and
// the peer's address. Never the body, MSH fields or credentials: a refusal line is safe to keep.
// 401 and 413 are `warn` (a partner is misconfigured or someone is probing); the rest `info`.
import type { Socket } from 'node:net';
import type { Logger } from '../platform/log/logger.ts';

export type RefusalReason =
  // 401
  | 'identity-missing'
  | 'certificate-untrusted'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'certificate-invalid'
  | 'certificate-not-accepted'
  | 'credentials-not-accepted'
  // 413
  | 'body-too-large'
  // 415
  | 'content-type'
  | 'charset'
  // 400
  | 'body-empty'
  | 'not-hl7'
  | 'ack-posted'
  | 'charset-undecodable'
  | 'bad-request'
  // 431
  | 'headers-too-large'
  // 408
  | 'request-timeout'
  // 404 / 405 / 503
  | 'no-sender-at-path'
  | 'method-not-allowed'
  | 'not-ready';

export interface Refusal {
  status: number;
  reason: RefusalReason;
  path?: string | undefined;
  /** The sender, when the request got as far as one identity. */
  sender?: string | undefined;
  socket?: Socket | undefined;
  /** Node's code for what the HTTP parser refused (e.g. HPE_INVALID_METHOD); never content. */
  detail?: string | undefined;
}

/** The peer's address (no port: one partner, one line pattern). */
export function peerOf(socket: Socket | undefined): string | null {
  return socket?.remoteAddress ?? null;
}

export function logRefusal(log: Logger, r: Refusal): void {
  const level = r.status === 401 || r.status === 413 ? 'warn' : 'info';
  log[level]({
    status: r.status,
    reason: r.reason,
    path: r.path ?? null,
    ...(r.sender ? { sender: r.sender } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    peer: peerOf(r.socket),
  }, 'request refused');
}

/** A client that went away before its request was read: not an error of ours, so `info`. */
export function logClientAbort(log: Logger, path: string | undefined, socket: Socket | undefined): void {
  log.info({ reason: 'client-aborted', path: path ?? null, peer: peerOf(socket) }, 'request aborted by the client');
}

// Connections whose refusal was already logged at the socket level (a request timeout answered
// 408 by the server): the handler that was reading the body then stays silent.
const refusedConnections = new WeakSet<Socket>();

export function markRefused(socket: Socket): void {
  refusedConnections.add(socket);
}

export function wasRefused(socket: Socket | undefined): boolean {
  return socket !== undefined && refusedConnections.has(socket);
}
