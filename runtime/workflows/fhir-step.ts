// FHIR interactions: read, search (following `next` links up to maxPages and merging the pages
// into one searchset Bundle), create, update, conditional create (If-None-Exist), conditional
// update, patch and conditional patch (JSON Patch, see fhir-patch.ts) and delete.
import type { Step } from '../../plan/plan.types.ts';
import { encodePathSegment } from './http/api-url.ts';
import type { ApiResponse, HttpMethod } from './http/types.ts';
import { stripEmpty } from './fhir-body.ts';
import { describeProblems, validateFhirResource } from './fhir-validation.ts';
import { headerValues, queryPairs, toText } from './request-values.ts';
import { storedResult, type HttpResult, type StepContext } from './step-context.ts';
import { WorkflowError } from './workflow-error.ts';
import { JSON_PATCH, patchOperations } from './fhir-patch.ts';

export const DEFAULT_MAX_PAGES = 10;
const FHIR_JSON = 'application/fhir+json';

interface SendExtra {
  body?: string;
  headers?: Record<string, string>;
  query?: Array<[string, string]>;
  idempotent?: boolean;
}

export async function runFhirStep(step: Step, ctx: StepContext): Promise<HttpResult> {
  const client = ctx.api(step.api, step);
  const type = step.resourceType;
  if (!type || !/^[A-Z][A-Za-z]+$/.test(type)) throw new WorkflowError(`step ${step.id}: bad resource type`, { transient: false, src: step.src });
  const interaction = step.interaction ?? 'read';
  const headers = { accept: FHIR_JSON, ...headerValues(ctx.evaluate(step.headers), step.src) };
  const base = { label: '', step: step.var ?? step.id, resourceType: type, src: step.src, responseType: 'json' as const, propagate: ctx.outboundHeaders };
  const rawId = () => toText(ctx.evaluate(step.resourceId)) ?? '';
  const params = () => queryPairs(ctx.evaluate(step.params), step.src);
  // The body as sent: empty values stripped (FHIR JSON has no nulls or empty values), then
  // validated against the R4 definitions when the API asks for it.
  const resource = async (id?: string): Promise<string> => {
    const body = ctx.evaluate(step.body);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new WorkflowError(`${interaction} ${type}: the body is not a resource object`, { transient: false, src: step.src });
    }
    const out = (stripEmpty({ resourceType: type, ...(body as Record<string, unknown>) }) ?? {}) as Record<string, unknown>;
    out.resourceType ??= type;
    if (id !== undefined && out.id === undefined) out.id = id;
    if (client.api.validate === 'fhir') {
      const problems = await validateFhirResource(out);
      if (problems.length) {
        throw new WorkflowError(`${interaction} ${type}: the body is not valid FHIR R4 (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${describeProblems(problems)}`, { transient: false, src: step.src });
      }
    }
    return JSON.stringify(out);
  };
  const send = (method: HttpMethod, path: string, extra: SendExtra = {}): Promise<ApiResponse> =>
    client.request({
      ...base,
      method,
      path,
      query: extra.query,
      body: extra.body,
      headers: { ...headers, ...(extra.body !== undefined ? { 'content-type': FHIR_JSON } : {}), ...extra.headers },
      idempotent: extra.idempotent ?? (method !== 'POST' && method !== 'PATCH'),
      label: `${method} ${client.api.name} ${type}`,
    });
  const at = (id: string) => `${type}/${encodePathSegment(id, step.src)}`;

  switch (interaction) {
    case 'read':
      return pick(await send('GET', at(idOfReference(rawId(), type, client.api.baseUrl, step.src))));
    case 'search':
      return search(step, type, params(), send);
    case 'create':
      return pick(await send('POST', type, { body: await resource() }));
    case 'update': {
      const id = rawId();
      return pick(await send('PUT', at(id), { body: await resource(id) }));
    }
    case 'conditional_create': {
      const query = new URLSearchParams(params()).toString();
      if (!query) throw new WorkflowError(`conditional create ${type} needs parameters`, { transient: false, src: step.src });
      // If-None-Exist makes the create safe to repeat.
      return pick(await send('POST', type, { body: await resource(), headers: { 'if-none-exist': query }, idempotent: true }));
    }
    case 'conditional_update': {
      const query = params();
      if (!query.length) throw new WorkflowError(`conditional update ${type} needs parameters`, { transient: false, src: step.src });
      return pick(await send('PUT', type, { body: await resource(), query }));
    }
    case 'patch':
    case 'conditional_patch': {
      const body = JSON.stringify(patchOperations(ctx.evaluate(step.body), type, step.src));
      // Every operation sets a whole element to a fixed value: repeating the request is safe.
      const extra: SendExtra = { body, headers: { 'content-type': JSON_PATCH }, idempotent: true };
      if (interaction === 'patch') return pick(await send('PATCH', at(rawId()), extra));
      const query = params();
      if (!query.length) throw new WorkflowError(`conditional patch ${type} needs parameters`, { transient: false, src: step.src });
      return pick(await send('PATCH', type, { ...extra, query }));
    }
    case 'delete':
      if (step.resourceId) return pick(await send('DELETE', at(rawId())));
      return pick(await send('DELETE', type, { query: params() }));
  }
}

async function search(
  step: Step,
  type: string,
  query: Array<[string, string]>,
  send: (m: HttpMethod, p: string, e?: SendExtra) => Promise<ApiResponse>,
): Promise<HttpResult> {
  const first = await send('GET', type, { query });
  const pages = [asBundle(first.body, step)];
  const maxPages = step.maxPages ?? DEFAULT_MAX_PAGES;
  let truncated = false;
  for (let next = nextLink(pages[0]!); next; next = nextLink(pages[pages.length - 1]!)) {
    if (pages.length >= maxPages) {
      truncated = true;
      break;
    }
    pages.push(asBundle((await send('GET', next)).body, step));
  }
  const body = mergePages(pages, truncated);
  // One untruncated page (the usual case) is stored as received and merged again when read back.
  const stored = pages.length === 1 && !truncated && first.json !== undefined
    ? `{"status":${first.status},"headers":${JSON.stringify(first.headers)},"page":${first.json}}`
    : undefined;
  return { status: first.status, headers: first.headers, body, stored };
}

/** A stored search result back in the shape steps read. */
export function restoreSearch(stored: { status: number; headers: Record<string, string>; body?: unknown; page?: Record<string, unknown> }): HttpResult {
  if (stored.page === undefined) return stored as HttpResult;
  return { status: stored.status, headers: stored.headers, body: mergePages([stored.page], false) };
}

/**
 * The pages of a search as one searchset Bundle: entries concatenated, paging links dropped.
 * `total` is what the server reported; servers that omit it get the number of entries read, so
 * `x.total == 0` works everywhere. A search cut short by maxPages is tagged SUBSETTED.
 */
function mergePages(pages: Array<Record<string, unknown>>, truncated: boolean): Record<string, unknown> {
  const [firstPage] = pages;
  const entries: unknown[] = [];
  for (const p of pages) if (Array.isArray(p.entry)) entries.push(...p.entry);
  const { link: _link, entry: _entry, ...rest } = firstPage!;
  const merged: Record<string, unknown> = {
    ...rest,
    resourceType: 'Bundle',
    type: 'searchset',
    total: typeof firstPage!.total === 'number' ? firstPage!.total : entries.length,
    entry: entries,
  };
  if (truncated) merged.meta = { ...(firstPage!.meta as object | undefined), tag: [{ code: 'SUBSETTED', system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue' }] };
  return merged;
}

function asBundle(body: unknown, step: Step): Record<string, unknown> {
  if (!body || typeof body !== 'object' || (body as { resourceType?: unknown }).resourceType !== 'Bundle') {
    throw new WorkflowError(`search ${step.resourceType}: the answer is not a Bundle`, { transient: false, src: step.src });
  }
  return body as Record<string, unknown>;
}

function nextLink(bundle: Record<string, unknown>): string | undefined {
  const links = Array.isArray(bundle.link) ? (bundle.link as Array<{ relation?: string; url?: string }>) : [];
  return links.find((l) => l.relation === 'next' && typeof l.url === 'string')?.url;
}

function pick(res: ApiResponse): HttpResult {
  return { status: res.status, headers: res.headers, body: res.body, stored: storedResult(res.status, res.headers, res.json) };
}

/**
 * A read's id may be written as a reference: `read Encounter context.fhirContext[0].reference`
 * with "Encounter/123", or an absolute URL under the API's base. A reference to another type or
 * another server is an error, never a request elsewhere. A plain id is returned as it is.
 */
export function idOfReference(value: string, type: string, baseUrl: string, src?: string): string {
  if (!value.includes('/')) return value;
  let rel = value;
  if (/^https?:\/\//i.test(value)) {
    const base = baseUrl.replace(/\/+$/, '') + '/';
    if (!value.startsWith(base)) throw new WorkflowError(`read ${type}: the reference is to ${safeOrigin(value)}, not this FHIR server`, { transient: false, src });
    rel = value.slice(base.length);
  }
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(rel);
  if (!m) throw new WorkflowError(`read ${type}: the id is neither an id nor a reference (Type/id)`, { transient: false, src });
  if (m[1] !== type) throw new WorkflowError(`read ${type}: the reference is to a ${m[1]}`, { transient: false, src });
  return m[2]!;
}

/** Logged instead of a reference (which may hold a patient id). */
function safeOrigin(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return 'another server';
  }
}
