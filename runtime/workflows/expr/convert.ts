// Conversions shared by the expression functions and the field mappings' `as`. All are total:
// a value that cannot be converted gives null.
import { formatOffset, resolveWallTime } from './time-zone.ts';

/** A date/time broken into the parts that were present, so precision is kept. */
export interface DateParts {
  year: string;
  month?: string;
  day?: string;
  hour?: string;
  minute?: string;
  second?: string;
  /** Fraction digits without the dot. */
  fraction?: string;
  /** 'Z' or ±hh:mm. */
  offset?: string;
}

// HL7 DTM/TS: YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]; TS may carry ^precision after it.
const HL7_DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;
// ISO 8601 as FHIR and JSON APIs write it.
const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

/** An absent part is valid; a present one must lie in [lo, hi]. */
function within(s: string | undefined, lo: number, hi: number): boolean {
  return s === undefined || (Number(s) >= lo && Number(s) <= hi);
}

function valid(p: DateParts): boolean {
  if (!within(p.month, 1, 12) || !within(p.hour, 0, 23) || !within(p.minute, 0, 59) || !within(p.second, 0, 60)) return false;
  if (p.day !== undefined) {
    const days = new Date(Date.UTC(Number(p.year), Number(p.month ?? 1), 0)).getUTCDate();
    if (!within(p.day, 1, days)) return false;
  }
  if (p.offset && p.offset !== 'Z') {
    const [h, m] = [Number(p.offset.slice(1, 3)), Number(p.offset.slice(-2))];
    if (h > 14 || m > 59) return false;
  }
  return true;
}

function withOffset(p: DateParts, offset: string | undefined): DateParts {
  if (offset) p.offset = offset === 'Z' || offset === 'z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
  return p;
}

/** The regex groups after the year, in order. */
const PART_KEYS = ['month', 'day', 'hour', 'minute', 'second', 'fraction'] as const;

/** Parses an HL7 DTM/TS, an ISO 8601 date/time, or a Date; undefined when it is neither. */
export function parseDateParts(value: unknown): DateParts | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return undefined;
    value = value.toISOString();
  }
  if (typeof value !== 'string') return undefined;
  let text = value.trim();
  const caret = text.indexOf('^'); // TS: time^degree of precision
  if (caret >= 0) text = text.slice(0, caret);
  let m = HL7_DTM.exec(text);
  let p: DateParts | undefined;
  if (m) {
    p = withOffset({ year: m[1]! }, m[8]);
  } else if ((m = ISO.exec(text))) {
    p = withOffset({ year: m[1]! }, m[8]);
  } else return undefined;
  for (let i = 0; i < PART_KEYS.length; i++) {
    const v = m[i + 2];
    if (v !== undefined) p[PART_KEYS[i]!] = v;
  }
  return valid(p) ? p : undefined;
}

/** ISO 8601 date keeping the precision present: YYYY, YYYY-MM or YYYY-MM-DD. */
export function toDate(value: unknown): string | null {
  const p = parseDateParts(value);
  return p ? dateOf(p) : null;
}

function dateOf(p: DateParts): string {
  return p.year + (p.month ? `-${p.month}` + (p.day ? `-${p.day}` : '') : '');
}

/**
 * ISO 8601 date-time as FHIR `dateTime` writes it. The date keeps the precision present (a value
 * with no time reads as its date: `2024-03`, `2024-03-15`); a time is written to the second at
 * least (FHIR needs seconds whenever there is a time: 10:30 becomes 10:30:00), the fraction when
 * given, and an offset: the value's own (±hh:mm) when it carries one, else the offset `zone` (an
 * IANA time zone) has at that wall time, else none.
 */
export function toDatetime(value: unknown, zone?: string): string | null {
  const p = parseDateParts(value);
  if (!p) return null;
  if (p.hour === undefined) return dateOf(p);
  if (!p.offset && zone) return zonedDatetime(p, zone);
  return `${dateOf(p)}T${p.hour}:${p.minute ?? '00'}:${p.second ?? '00'}${p.fraction ? `.${p.fraction}` : ''}${p.offset ?? ''}`;
}

/** A wall time of `zone` with the offset in force then (see time-zone.ts for repeated and skipped hours). */
function zonedDatetime(p: DateParts, zone: string): string {
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute ?? 0), Math.min(Number(p.second ?? 0), 59));
  const { utcMs, offsetMinutes } = resolveWallTime(wall, zone);
  // Written from the resolved instant: a skipped wall time moves forward by the gap.
  const local = new Date(utcMs + offsetMinutes * 60_000).toISOString();
  const second = p.second === '60' ? '60' : local.slice(17, 19);
  return `${local.slice(0, 17)}${second}${p.fraction ? `.${p.fraction}` : ''}${formatOffset(offsetMinutes)}`;
}

/** Formats with the tokens YYYY MM DD HH mm ss; positions the value lacks read as 01/00. */
export function formatDate(value: unknown, pattern: unknown): string | null {
  const p = parseDateParts(value);
  if (!p || typeof pattern !== 'string') return null;
  const parts: Record<string, string> = {
    YYYY: p.year, MM: p.month ?? '01', DD: p.day ?? '01', HH: p.hour ?? '00', mm: p.minute ?? '00', ss: p.second ?? '00',
  };
  return pattern.replace(/YYYY|MM|DD|HH|mm|ss/g, (t) => parts[t]!);
}

/** A number from a number or a numeric string (HL7 NM: optional sign, digits, decimal point). */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const t = value.trim();
    if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return null;
    return Number(t);
  }
  return null;
}

/** Text of a scalar; lists and records as JSON; null stays null. */
export function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}
