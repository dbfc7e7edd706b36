// The expression functions declared in plan/functions.ts, implemented: the table is typed by their
// names, so a declared function without an implementation (or an undeclared one) does not compile.
// Every function is total: a wrong type or absent input gives null.
import type { FunctionName } from '../../../plan/functions.ts';
import { formatDate, toDate, toDatetime, toNumber, toText } from './convert.ts';
import { createHash } from 'node:crypto';
import { compare, equals, isAbsent, truthy } from './values.ts';
import { er7 } from '../../transforms/hl7-values.ts';

type Fn = (args: unknown[]) => unknown;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : isAbsent(v) ? [] : [v]);
/** min(list) or min(a, b, ...). */
const spread = (args: unknown[]): unknown[] => (args.length === 1 ? list(args[0]) : args).filter((x) => !isAbsent(x));
const present = (v: unknown) => !(isAbsent(v) || v === '' || (Array.isArray(v) && v.length === 0));
const pad2 = (n: number) => String(n).padStart(2, '0');

const stringFn = (f: (s: string, ...rest: unknown[]) => unknown): Fn => (args) => {
  const s = str(args[0]);
  return s === null ? null : f(s, ...args.slice(1));
};

export const functions: Record<FunctionName, Fn> = {
  first: ([v]) => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null)),
  last: ([v]) => (Array.isArray(v) ? (v[v.length - 1] ?? null) : (v ?? null)),
  count: ([v]) => list(v).length,
  exists: ([v]) => present(v),
  empty: ([v]) => !present(v),
  lower: stringFn((s) => s.toLowerCase()),
  upper: stringFn((s) => s.toUpperCase()),
  trim: stringFn((s) => s.trim()),
  coalesce: (args) => args.find((v) => present(v)) ?? null,
  join: ([v, sep]) => {
    if (!Array.isArray(v)) return str(v);
    const s = sep === undefined || sep === null ? ',' : str(sep);
    if (s === null) return null;
    return v.filter((x) => !isAbsent(x)).map((x) => toText(x)).join(s);
  },
  split: ([v, sep]) => {
    const s = str(v);
    const by = str(sep);
    if (s === null || by === null) return null;
    return s === '' ? [] : s.split(by);
  },
  concat: (args) => {
    if (args.some(Array.isArray)) return args.flatMap((a) => (isAbsent(a) ? [] : Array.isArray(a) ? a : [a]));
    return args.map((a) => toText(a) ?? '').join('');
  },
  substring: stringFn((s, start, end) => {
    const a = toNumber(start);
    const b = end === undefined || end === null ? s.length : toNumber(end);
    if (a === null || b === null) return null;
    return s.substring(a, b);
  }),
  replace: stringFn((s, from, to) => {
    const f = str(from);
    const t = isAbsent(to) ? '' : str(to);
    if (f === null || t === null || f === '') return null;
    return s.split(f).join(t);
  }),
  number: ([v]) => toNumber(v),
  string: ([v]) => toText(v),
  date: ([v]) => toDate(v),
  datetime: ([v, zone]) => toDatetime(v, typeof zone === 'string' ? zone : undefined),
  distinct_by: ([v, key]) => {
    const k = str(key);
    if (!Array.isArray(v) || k === null) return null;
    const seen = new Set<string>();
    return v.filter((x) => {
      const id = x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined;
      if (id === undefined || id === null) return true;
      const t = JSON.stringify(id);
      if (seen.has(t)) return false;
      seen.add(t);
      return true;
    });
  },
  when: ([cond, then, otherwise]) => (truthy(cond) ? (then ?? null) : (otherwise ?? null)),
  uuid: (args) => deterministicUuid(args.map((a) => toText(a) ?? '').join('')),
  er7: ([v]) => er7(v),
  flatten: ([v]) => (Array.isArray(v) ? v.flat(Infinity).filter((x) => !isAbsent(x)) : isAbsent(v) ? [] : [v]),
  format_date: ([v, pattern]) => formatDate(v, pattern),
  now: () => new Date().toISOString(),
  today: () => {
    const d = new Date();
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  },
  contains: ([hay, needle]) => {
    if (Array.isArray(hay)) return hay.some((x) => equals(x, needle));
    const h = str(hay);
    const n = str(needle);
    return h === null || n === null ? null : h.includes(n);
  },
  starts_with: ([s, p]) => {
    const a = str(s);
    const b = str(p);
    return a === null || b === null ? null : a.startsWith(b);
  },
  ends_with: ([s, p]) => {
    const a = str(s);
    const b = str(p);
    return a === null || b === null ? null : a.endsWith(b);
  },
  sum: (args) => {
    let total = 0;
    for (const v of spread(args)) {
      const n = toNumber(v);
      if (n === null) return null;
      total += n;
    }
    return total;
  },
  min: (args) => extreme(spread(args), -1),
  max: (args) => extreme(spread(args), 1),
  distinct: ([v]) => {
    const out: unknown[] = [];
    for (const x of list(v)) if (!out.some((y) => equals(x, y))) out.push(x);
    return out;
  },
};

/**
 * A UUID from SHA-256 of the text, laid out as .NET's Guid(bytes) does (the first three groups
 * little-endian), so ids equal FHIR-Converter's for the same input.
 */
export function deterministicUuid(text: string): string {
  const b = createHash('sha256').update(text, 'utf8').digest().subarray(0, 16);
  const hex = (xs: number[]) => xs.map((x) => x.toString(16).padStart(2, '0')).join('');
  const at = (i: number) => b[i]!;
  return [hex([at(3), at(2), at(1), at(0)]), hex([at(5), at(4)]), hex([at(7), at(6)]), hex([at(8), at(9)]),
    hex([10, 11, 12, 13, 14, 15].map(at))].join('-');
}

function extreme(values: unknown[], sign: 1 | -1): unknown {
  let best: unknown = null;
  for (const v of values) {
    if (best === null) {
      best = v;
      continue;
    }
    const c = compare(v, best);
    if (c === undefined) return null;
    if (c * sign > 0) best = v;
  }
  return best;
}

/** The function names the language defines; the compiler checks calls against this list. */
export const functionNames: readonly FunctionName[] = Object.freeze(Object.keys(functions) as FunctionName[]);
