// The module's HTTP: node:http(s) with keep-alive, streamed responses (a file of any size is read
// as it arrives), gzip and deflate decoded, the API's TLS material, and an abort signal.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, decoded when it was sent compressed. */
  body: Readable;
  /** The body as the server encoded it ('identity' when not compressed). */
  encoding: string;
  /** Reads the whole (small) body as text. */
  text(): Promise<string>;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Time without a byte from the server before the request fails. */
  idleTimeoutMs?: number;
}

export class HttpClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  private readonly https: HttpsAgent;

  constructor(tls: { ca?: string; cert?: string; key?: string } = {}) {
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 32, ...tls });
  }

  request(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(u, {
        method: opts.method ?? 'GET',
        headers: { 'accept-encoding': 'gzip, deflate', ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) },
        agent: secure ? this.https : this.http,
        signal: opts.signal,
      }, (res) => {
        const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
        let body: Readable = res;
        if (encoding === 'gzip' || encoding === 'x-gzip') body = res.pipe(createGunzip());
        else if (encoding === 'deflate') body = res.pipe(createInflate());
        // A cut connection must fail the decoded stream too, not end it quietly.
        if (body !== res) res.on('error', (err) => body.destroy(err)).on('aborted', () => body.destroy(new Error('the connection was cut')));
        res.on('aborted', () => res.destroy(new Error('the connection was cut')));
        resolve({
          status: res.statusCode ?? 0, headers: res.headers, body, encoding,
          text: async () => {
            const chunks: Buffer[] = [];
            for await (const c of body) chunks.push(c as Buffer);
            return Buffer.concat(chunks).toString('utf8');
          },
        });
      });
      req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => req.destroy(new Error(`no answer from ${u.host} in ${opts.idleTimeoutMs ?? 60_000} ms`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Retry-After as seconds or an HTTP-date, in milliseconds from now (undefined when absent or unreadable). */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
