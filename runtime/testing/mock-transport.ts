// The HTTP layer under `hdc test`: requests leave the real engine and ApiClient (URL building,
// auth headers, retries) and stop here, answered from the test's mocks — matched by step name,
// API, resource type, path and method, the most specific mock winning — and recorded for
// `expect request`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Fixture, Mock } from '../../plan/plan.types.ts';
import { evaluate } from '../workflows/expr/evaluate.ts';
import type { Transport, WireRequest, WireResponse } from '../workflows/http/types.ts';

export interface RecordedCall {
  api: string;
  method: string;
  /** The path below the API base, with a leading slash: `/charges`, `/Patient/123`. */
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: unknown;
  step?: string;
  resourceType?: string;
  /** The mock's status, or undefined when no mock matched. */
  status?: number;
}

export class NoMockError extends Error {}

const MAX_SHOWN = 600;

/** One request as the failure shows it: `POST billing /admissions?x=1 {"total":5} → 201`. */
export function describeCall(c: RecordedCall): string {
  const query = new URLSearchParams(Object.entries(c.query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();
  let text = `${c.method} ${c.api} ${c.path}${query ? `?${query}` : ''}`;
  if (c.body !== null && c.body !== undefined) {
    const body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    text += ` ${body.length > MAX_SHOWN ? `${body.slice(0, MAX_SHOWN)}… (${body.length} characters)` : body}`;
  }
  if (c.status !== undefined) text += ` → ${c.status}`;
  return text;
}

const norm = (p: string) => '/' + p.replace(/^\/+/, '').replace(/\/+$/, '');

export class MockTransport implements Transport {
  readonly calls: RecordedCall[] = [];

  constructor(
    private readonly mocks: Mock[],
    private readonly workDir: string,
    private readonly apiKinds: Map<string, { kind: string; format?: string }>,
  ) {}

  async send(req: WireRequest): Promise<WireResponse> {
    const call: RecordedCall = {
      api: req.api,
      method: req.method,
      path: norm(req.apiPath),
      query: queryObject(req.url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'authorization')),
      body: parseBody(req.body, req.headers['content-type']),
      ...(req.step ? { step: req.step } : {}),
      ...(req.resourceType ? { resourceType: req.resourceType } : {}),
    };
    this.calls.push(call);
    const mock = this.find(req, call.path);
    if (!mock) throw new NoMockError(`no mock answers ${req.method} ${req.api} ${call.path}`);
    call.status = mock.status;
    const { body, contentType } = this.response(mock.response, req.api);
    return { status: mock.status, headers: { 'content-type': contentType }, body };
  }

  private find(req: WireRequest, path: string): Mock | undefined {
    let best: Mock | undefined;
    let bestScore = -1;
    for (const m of this.mocks) {
      if (m.step !== undefined && m.step !== req.step) continue;
      if (m.api !== undefined && m.api !== req.api) continue;
      if (m.resourceType !== undefined && m.resourceType !== req.resourceType) continue;
      if (m.urlPath !== undefined && norm(m.urlPath) !== path) continue;
      if (m.method !== undefined && m.method.toUpperCase() !== req.method) continue;
      // A step name is the most specific; then each other criterion counts.
      const score = (m.step !== undefined ? 10 : 0) + [m.api, m.resourceType, m.urlPath, m.method].filter((x) => x !== undefined).length;
      if (score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    return best;
  }

  private response(f: Fixture, api: string): { body: Buffer; contentType: string } {
    const kind = this.apiKinds.get(api);
    const jsonType = kind?.kind === 'fhir' ? 'application/fhir+json' : 'application/json';
    if (f.file !== undefined) {
      const body = readFileSync(resolve(this.workDir, f.file));
      return { body, contentType: /\.json$/i.test(f.file) ? jsonType : kind?.kind === 'hl7' ? 'application/hl7-v2' : 'text/plain' };
    }
    if (f.text !== undefined) return { body: Buffer.from(f.text), contentType: 'text/plain' };
    const value = f.json ? evaluate(f.json, { vars: {} }) : null;
    if (typeof value === 'string' && (kind?.kind === 'hl7' || kind?.format === 'text' || kind?.format === 'xml')) return { body: Buffer.from(value), contentType: 'text/plain' };
    return { body: Buffer.from(JSON.stringify(value)), contentType: jsonType };
  }
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

function parseBody(body: string | Buffer | undefined, contentType?: string): unknown {
  if (body === undefined) return null;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (contentType && /json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
