// The production transport: got with keep-alive agents (one pair per API so a slow API cannot
// starve another's sockets), no redirects (a redirect could leave the declared API and carry
// its credentials along) and no built-in retries (ApiClient owns the retry policy).
import http from 'node:http';
import https from 'node:https';
import got, { RequestError, TimeoutError, type Got } from 'got';
import { isCertificateError } from './tls-errors.ts';
import { TransportError, type Transport, type WireRequest, type WireResponse } from './types.ts';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Error codes that mean the request never left this machine or never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
/** Timeout phases that end before the request is written. */
const NOT_SENT_TIMEOUTS = new Set(['lookup', 'connect', 'secureConnect']);

export class GotTransport implements Transport {
  private readonly http: http.Agent;
  private readonly https: https.Agent;
  private readonly got: Got;

  constructor(tls: TlsMaterial = {}, maxSockets = 64) {
    this.http = new http.Agent({ keepAlive: true, maxSockets });
    this.https = new https.Agent({ keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
    this.got = got.extend({
      agent: { http: this.http, https: this.https },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'buffer',
    });
  }

  async send(req: WireRequest): Promise<WireResponse> {
    try {
      const res = await this.got(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        // Phase timeouts tell a request that never left (connect) from one that may have arrived.
        timeout: req.url.protocol === 'https:'
          ? { connect: req.timeoutMs, secureConnect: req.timeoutMs, request: req.timeoutMs }
          : { connect: req.timeoutMs, request: req.timeoutMs },
      });
      return { status: res.statusCode, statusMessage: res.statusMessage, headers: res.headers, body: res.rawBody };
    } catch (err) {
      if (err instanceof TimeoutError) {
        const notSent = NOT_SENT_TIMEOUTS.has(err.event);
        throw new TransportError(`timed out after ${req.timeoutMs} ms (${err.event})`, 'ETIMEDOUT', notSent, true);
      }
      if (err instanceof RequestError) {
        const code = err.code ?? 'ERR';
        const certificate = isCertificateError(code);
        throw new TransportError(certificate ? `TLS certificate not trusted (${code})` : code, code, NOT_SENT_CODES.has(code) || certificate, false, certificate);
      }
      throw err;
    }
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
