// Enforces a REST step's declared `response { … }`: every field is read from the body, checked and
// converted; the step's value is the record of the declared fields. A field that is missing or of
// the wrong kind fails the step with the field's name and its `.hdc` line (never the value: PHI).
import type { ResponseField } from '../../plan/plan.types.ts';
import { toDate, toDatetime, toNumber } from './expr/convert.ts';
import { WorkflowError } from './workflow-error.ts';

/**
 * `lenient`: the body came from XML, where one child and a list of one look alike, so a single
 * value read with `[*]`, `[0]`, `as list` or `each` counts as a list of one.
 */
export function applyResponseShape(body: unknown, fields: ResponseField[], label: string, lenient: boolean): Record<string, unknown> {
  return readRecord(body, fields, { label, lenient, prefix: '' });
}

interface ShapeContext { label: string; lenient: boolean; prefix: string }

function readRecord(value: unknown, fields: ResponseField[], ctx: ShapeContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.name] = readField(value, f, ctx);
  return out;
}

const MISSING = Symbol('missing');

function readField(from: unknown, f: ResponseField, ctx: ShapeContext): unknown {
  const where = `${ctx.prefix}${f.name}`;
  const fail = (why: string): never => {
    throw new WorkflowError(`${ctx.label}: response field "${where}" (${pathText(f.path)}) ${why}`, { transient: false, src: f.src });
  };
  const raw = readPath(from, f.path, 0, ctx.lenient);
  const listWanted = f.fields !== undefined || f.as === 'list';
  if (raw === MISSING || raw === null || raw === undefined) {
    if (f.optional) return listWanted ? [] : null;
    return fail('is missing');
  }
  if (f.fields) {
    const items = asList(raw, ctx.lenient) ?? fail(`is ${kind(raw)}, not a list`);
    return items.map((item, i) => readRecord(item, f.fields!, { ...ctx, prefix: `${where}[${i}].` }));
  }
  if (!f.as) return raw;
  const converted = convert(raw, f.as, ctx.lenient);
  if (converted === undefined) return fail(`is ${kind(raw)}, not ${article(f.as)}`);
  return converted;
}

/** Reads a path; MISSING when a step on the way is absent (a `*` over nothing is missing too). */
function readPath(value: unknown, path: ReadonlyArray<string | number>, from: number, lenient: boolean): unknown {
  let v = value;
  for (let i = from; i < path.length; i++) {
    const key = path[i]!;
    if (v === null || v === undefined) return MISSING;
    if (key === '*') {
      const items = asList(v, lenient);
      if (!items) return MISSING;
      const out: unknown[] = [];
      for (const item of items) {
        const r = readPath(item, path, i + 1, lenient);
        if (Array.isArray(r)) out.push(...r);
        else out.push(r === MISSING ? null : r);
      }
      return out;
    }
    if (typeof key === 'number') {
      if (Array.isArray(v)) v = v[key];
      else if (lenient && key === 0 && typeof v === 'object') continue;
      else return MISSING;
    } else if (typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, key)) {
      v = (v as Record<string, unknown>)[key];
    } else {
      return MISSING;
    }
  }
  return v === undefined ? MISSING : v;
}

function asList(v: unknown, lenient: boolean): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (lenient && v !== null && v !== undefined) return [v];
  return undefined;
}

/** XML elements with attributes carry their text under $text. */
function scalar(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && '$text' in v) return (v as { $text: unknown }).$text;
  return v;
}

function convert(raw: unknown, as: NonNullable<ResponseField['as']>, lenient: boolean): unknown {
  const v = scalar(raw);
  switch (as) {
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return undefined;
    case 'number':
      if (typeof v === 'number') return v;
      return typeof v === 'string' && v.trim() !== '' ? (toNumber(v.trim()) ?? undefined) : undefined;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return undefined;
    case 'date':
      return typeof v === 'string' ? (toDate(v) ?? undefined) : undefined;
    case 'datetime':
      return typeof v === 'string' ? (toDatetime(v) ?? undefined) : undefined;
    case 'list':
      return asList(raw, lenient);
    case 'record':
      return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : undefined;
  }
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a record';
  if (typeof v === 'string') return v.trim() === '' ? 'empty text' : 'text that does not convert';
  return `a ${typeof v}`;
}

const article = (as: string) => (/^[aeiou]/.test(as) ? `an ${as}` : `a ${as}`);

function pathText(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '$';
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : p === '*' ? '[*]' : (out ? '.' : '') + p;
  return out.startsWith('[') ? '$' + out : out;
}
