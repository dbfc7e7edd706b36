// What a FHIR request body may not contain: FHIR JSON has no nulls, no empty or whitespace-only
// strings, no empty arrays and no empty objects. An absent HL7 field maps to null, so bodies
// built from messages would carry `"value": null` or `"given": [null]`; like FHIR-Converter's
// post-processing, such values are dropped, recursively (an object left empty is dropped in turn).
//
// Primitive arrays keep their alignment with the `_name` array that carries their ids and
// extensions: a position is dropped only when it is empty in both.

/** A value that carries nothing in FHIR JSON. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** The value without its empty parts; undefined when nothing is left. */
export function stripEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(stripEmpty).filter((v) => !isEmpty(v));
    return out.length ? out : undefined;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const src = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(src)) {
      if (key.startsWith('_') && Array.isArray(src[key.slice(1)])) continue; // handled with its values
      const ext = src['_' + key];
      if (Array.isArray(v) && Array.isArray(ext)) {
        Object.assign(out, alignedPair(key, v, ext));
        continue;
      }
      const kept = stripEmpty(v);
      if (!isEmpty(kept)) out[key] = kept;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return isEmpty(value) ? undefined : value;
}

/** `given` and `_given`: positions empty in both are dropped; the rest keep their pairing (null marks a gap). */
function alignedPair(key: string, values: unknown[], extras: unknown[]): Record<string, unknown> {
  const kept: unknown[] = [];
  const keptExtras: unknown[] = [];
  for (let i = 0; i < Math.max(values.length, extras.length); i++) {
    const v = stripEmpty(values[i]);
    const e = stripEmpty(extras[i]);
    if (isEmpty(v) && isEmpty(e)) continue;
    kept.push(isEmpty(v) ? null : v);
    keptExtras.push(isEmpty(e) ? null : e);
  }
  const out: Record<string, unknown> = {};
  if (kept.some((v) => v !== null)) out[key] = kept;
  if (keptExtras.some((e) => e !== null)) out['_' + key] = keptExtras;
  return out;
}
