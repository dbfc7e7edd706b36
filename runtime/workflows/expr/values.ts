// Truthiness, equality and ordering of expression values: the rules `if`, `where`, the
// comparison operators and min/max/distinct share.
import { toNumber } from './convert.ts';

/** Falsy: null/absent, false, '', 0, NaN and the empty list. Everything else is truthy. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return !(v === null || v === undefined || v === false || v === '' || v === 0 || Number.isNaN(v));
}

export function isAbsent(v: unknown): boolean {
  return v === null || v === undefined;
}

/** A number and a numeric string compare as numbers (HL7 values arrive as text). */
function numericPair(a: unknown, b: unknown): [number, number] | undefined {
  if (typeof a === 'number' && typeof b === 'number') return [a, b];
  if (typeof a === 'number' && typeof b === 'string') {
    const n = toNumber(b);
    return n === null ? undefined : [a, n];
  }
  if (typeof a === 'string' && typeof b === 'number') {
    const n = toNumber(a);
    return n === null ? undefined : [n, b];
  }
  return undefined;
}

/** == : null equals only null/absent; lists and records compare by content. */
export function equals(a: unknown, b: unknown): boolean {
  if (isAbsent(a) || isAbsent(b)) return isAbsent(a) && isAbsent(b);
  const num = numericPair(a, b);
  if (num) return num[0] === num[1];
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equals(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length &&
    ka.every((k) => equals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Ordering: numbers numerically, strings (ISO dates included) lexically; undefined when not comparable. */
export function compare(a: unknown, b: unknown): number | undefined {
  if (isAbsent(a) || isAbsent(b)) return undefined;
  const num = numericPair(a, b);
  if (num) return num[0] - num[1];
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return undefined;
}
