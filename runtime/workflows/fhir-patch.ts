// The JSON Patch (RFC 6902) document a `patch` step sends: one `add` per member of the body, on
// the top-level element of that name. `add` on an object member sets it whether or not it exists,
// so the document is the same on every attempt and applying it twice changes nothing more than
// applying it once (the step may be retried). Absent values (null, "", [] and {} once their own
// absent parts are dropped) produce no operation: missing data never erases what the EHR holds.
import { WorkflowError } from './workflow-error.ts';

export const JSON_PATCH = 'application/json-patch+json';

export interface PatchOperation { op: 'add'; path: string; value: unknown }

const FIXED = new Set(['resourceType', 'id']);

export function patchOperations(body: unknown, type: string, src?: string): PatchOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new WorkflowError(`patch ${type}: the body is not an object of elements`, { transient: false, src });
  }
  const ops: PatchOperation[] = [];
  for (const [key, raw] of Object.entries(body as Record<string, unknown>)) {
    if (FIXED.has(key)) throw new WorkflowError(`patch ${type}: a patch cannot set ${key}`, { transient: false, src });
    const value = present(raw);
    if (value !== undefined) ops.push({ op: 'add', path: '/' + pointerToken(key), value });
  }
  return ops;
}

/** The value without its absent parts (FHIR JSON has no null, "" or empty arrays and objects). */
export function present(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    const items = v.map(present).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = present(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** RFC 6901: `~` is `~0`, `/` is `~1`. */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
