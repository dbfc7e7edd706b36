// Token and discovery requests to servers behind a private CA: openid-client speaks fetch, which
// ignores per-API TLS settings, so with a CA (or client certificate) configured the requests go
// through got with an https agent carrying that material instead.
import https from 'node:https';
import got from 'got';
import type { CustomFetch } from 'openid-client';

export interface TlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
}

export function hasTls(tls: TlsOptions | undefined): tls is TlsOptions {
  return Boolean(tls && (tls.ca || tls.cert || tls.key));
}

export function tlsFetch(tls: TlsOptions): CustomFetch {
  const agent = new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key });
  return async (url, options) => {
    const body = options.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof URLSearchParams) && !(body instanceof Uint8Array)) {
      throw new TypeError('unsupported request body');
    }
    const res = await got(url, {
      method: (options.method ?? 'GET') as 'GET',
      headers: options.headers,
      body: body === undefined || body === null ? undefined : body instanceof URLSearchParams ? body.toString() : (body as string | Uint8Array),
      agent: { https: agent },
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      responseType: 'buffer',
      signal: options.signal ?? undefined,
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) headers.append(k, item);
    }
    return new Response(res.statusCode === 204 ? null : res.rawBody.toString('utf8'), { status: res.statusCode, statusText: res.statusMessage, headers });
  };
}
