// Custom REST calls: GET/POST/PUT/PATCH/DELETE on `{base}/{urlPath}` with query, headers and a
// JSON (or, for text and xml APIs, a string sent as is) body. Values interpolated into the path
// are percent-encoded per segment; the literal parts are the author's and kept as written. The
// response is read as the API's format says; a declared `response { … }` shape is enforced.
import type { Expr, Step } from '../../plan/plan.types.ts';
import { encodePathSegment } from './http/api-url.ts';
import type { HttpMethod } from './http/types.ts';
import { headerValues, queryPairs, toText } from './request-values.ts';
import { storedResult, type HttpResult, type StepContext } from './step-context.ts';
import { WorkflowError } from './workflow-error.ts';
import { applyResponseShape } from './response-shape.ts';

const ACCEPT = { json: 'application/json', text: 'text/plain, */*', xml: 'application/xml, text/xml;q=0.9' } as const;
const STRING_BODY_TYPE = { text: 'text/plain; charset=utf-8', xml: 'application/xml; charset=utf-8' } as const;

export function buildPath(expr: Expr | undefined, evaluate: (e: Expr) => unknown, src?: string): string {
  if (!expr) return '';
  if (Array.isArray(expr.template)) {
    return expr.template.map((part) => (typeof part === 'string' ? part : encodePathSegment(toText(evaluate(part as Expr)) ?? '', src))).join('');
  }
  if ('lit' in expr && typeof expr.lit === 'string') return expr.lit;
  // Any other expression: its whole value is data, so every segment is encoded.
  const text = toText(evaluate(expr)) ?? '';
  return text
    .split('/')
    .map((s, i, all) => (s === '' && (i === 0 || i === all.length - 1) ? s : encodePathSegment(s, src)))
    .join('/');
}

/** How the path reads in messages: literal parts, `{…}` for values (never the values: PHI). */
export function pathLabel(expr: Expr | undefined): string {
  if (!expr) return '/';
  if (Array.isArray(expr.template)) return expr.template.map((p) => (typeof p === 'string' ? p : '{…}')).join('');
  if (typeof expr.lit === 'string') return expr.lit;
  return '{…}';
}

export async function runRestStep(step: Step, ctx: StepContext): Promise<HttpResult> {
  const client = ctx.api(step.api, step);
  const method: HttpMethod = step.method ?? 'GET';
  const format = client.api.format ?? 'json';
  const headers: Record<string, string> = {
    accept: ACCEPT[format],
    ...headerValues(ctx.evaluate(step.headers), step.src),
  };
  let body: string | undefined;
  if (step.body && method !== 'GET' && method !== 'DELETE') {
    const value = ctx.evaluate(step.body);
    if (typeof value === 'string' && format !== 'json') {
      body = value;
      headers['content-type'] ??= STRING_BODY_TYPE[format];
    } else {
      body = JSON.stringify(value ?? null);
      headers['content-type'] ??= 'application/json';
    }
  } else if (step.body) {
    throw new WorkflowError(`${method} requests carry no body`, { transient: false, src: step.src });
  }
  const label = `${method} ${client.api.name} ${pathLabel(step.urlPath)}`;
  const res = await client.request({
    method,
    path: buildPath(step.urlPath, (e) => ctx.evaluate(e), step.src),
    query: queryPairs(ctx.evaluate(step.query), step.src),
    headers,
    body,
    idempotent: method === 'GET' || method === 'PUT' || method === 'DELETE',
    responseType: format,
    label,
    src: step.src,
    step: step.var ?? step.id,
    propagate: ctx.outboundHeaders,
  });
  if (!step.response) {
    if (res.text === undefined) return { status: res.status, headers: res.headers, body: res.body, stored: storedResult(res.status, res.headers, res.json) };
    // XML: the history keeps the text as received beside the value read from it.
    return { status: res.status, headers: res.headers, body: res.body, stored: JSON.stringify({ status: res.status, headers: res.headers, body: res.body, received: res.text }) };
  }
  const shaped = applyResponseShape(res.body, step.response, label, format === 'xml');
  // The step's value is the declared record; the history also keeps the response as received.
  const received = res.json ?? JSON.stringify(res.text ?? res.body ?? null);
  return {
    status: res.status,
    headers: res.headers,
    body: shaped,
    stored: `{"status":${res.status},"headers":${JSON.stringify(res.headers)},"body":${JSON.stringify(shaped)},"received":${received}}`,
  };
}
