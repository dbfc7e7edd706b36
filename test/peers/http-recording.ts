// Request recording and fault injection shared by the HTTP peers (FHIR server, REST API).
// Tests assert on what a client really sent, and make a peer misbehave on purpose to prove
// retries, backoff and timeouts.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/fhir/Patient`. */
  path: string;
  /** Decoded query; a repeated key gives an array. */
  query: Record<string, string | string[]>;
  /** Lower-case header names. `authorization` is removed (see `auth`) so logs of tests never hold secrets. */
  headers: Record<string, string>;
  /** Scheme of the Authorization header (`Bearer`, `Basic`), or null when absent. */
  auth: string | null;
  /** Parsed JSON body when the body was JSON, the raw text otherwise, undefined when empty. */
  body: unknown;
  /** Response status, set once the response is sent. */
  status?: number;
  /** True when an injected fault answered this request. */
  faulted?: boolean;
  at: number;
}

export interface Fault {
  /** Answer with this status (and an error body) instead of the real response. */
  status?: number;
  /** Seconds for the Retry-After header (use with 429 or 503). */
  retryAfter?: number;
  /** Wait this long before answering (the real response, or `status` when given). */
  delayMs?: number;
  /** Destroy the socket without an answer (after `delayMs`). */
  dropConnection?: boolean;
  /** Response body for `status`; a JSON value. Default: an OperationOutcome / error object. */
  body?: unknown;
  /** How many matching requests are affected; default 1; `Infinity` for all. */
  times?: number;
  /** Only requests with this method are affected. */
  method?: string;
  /** Only requests whose path (relative to the server root, e.g. `/fhir/Encounter`) starts with this. */
  pathPrefix?: string;
}

/** Keeps the pending faults; the first matching fault is consumed per request. */
export class FaultInjector {
  private readonly pending: Array<Fault & { left: number }> = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Takes the fault that applies to this request, if any. */
  take(method: string, path: string): Fault | undefined {
    const i = this.pending.findIndex(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) && (!f.pathPrefix || path.startsWith(f.pathPrefix)),
    );
    if (i < 0) return undefined;
    const f = this.pending[i];
    f.left -= 1;
    if (f.left <= 0) this.pending.splice(i, 1);
    return f;
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseQuery(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Builds the record of one request; the caller pushes it and sets `status` when answering. */
export function recordRequest(req: IncomingMessage, url: URL, rawBody: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === 'authorization' || v === undefined) continue;
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  let body: unknown = undefined;
  if (rawBody.length > 0) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = rawBody;
    }
  }
  const authz = req.headers.authorization;
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: parseQuery(url.searchParams),
    headers,
    auth: authz ? authz.split(' ')[0] : null,
    body,
    at: Date.now(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Applies a fault. Returns true when the fault answered the request (or dropped it), false when
 * the request should proceed normally (a pure delay).
 */
export async function applyFault(
  fault: Fault,
  res: ServerResponse,
  record: RecordedRequest,
  errorBody: (status: number) => unknown,
  contentType = 'application/json',
): Promise<boolean> {
  if (fault.delayMs) await sleep(fault.delayMs);
  if (fault.dropConnection) {
    record.faulted = true;
    res.socket?.destroy();
    return true;
  }
  if (fault.status === undefined) return false;
  record.faulted = true;
  record.status = fault.status;
  const headers: Record<string, string> = { 'content-type': `${contentType}; charset=utf-8` };
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  res.writeHead(fault.status, headers);
  res.end(JSON.stringify(fault.body ?? errorBody(fault.status)));
  return true;
}
