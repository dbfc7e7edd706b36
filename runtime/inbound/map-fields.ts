// Runs a sender's field mappings over a parsed message.
//
// - `path` reads the message (see Hl7Message.get for what a position reads as);
// - `where` keeps the repetitions for which it holds, its `rel` nodes reading a component
//   (and subcomponent) of each repetition; `select` then takes a component/subcomponent of each
//   kept repetition (without it, the path's own component/subcomponent);
// - `as` converts: string, number, date, datetime (as the expression functions do; datetime
//   gives a time without its own offset the offset of the sender's `timezone`), raw (the escaped
//   ER7 text as written);
// - `map` (`-> NAME`) then applies a value map to the value (each item of a list);
// - `each: SEG` + `fields` gives one record per SEG segment; inside, paths on SEG read the current
//   segment and paths on other segments read the whole message.
// A path with `*` yields a list — unless the compiler typed the field as a scalar (string,
// number, boolean, date, datetime), which reads the first kept value. Otherwise a scalar, null
// when absent.
//
// A mapping list is compiled once into closures (cached by the plan's array) so each message only
// runs the reads it needs: every decision that depends on the plan alone is taken at compile time.
import type { FieldMapping, Hl7Path } from '../../plan/plan.types.ts';
import { evaluate, type Scope } from '../workflows/expr/evaluate.ts';
import { toDate, toDatetime, toNumber, toText } from '../workflows/expr/convert.ts';
import { truthy } from '../workflows/expr/values.ts';
import { applyValueMap } from '../workflows/expr/value-map.ts';
import type { Hl7Message, Hl7Repetition, Hl7Segment, Hl7Value } from './hl7/index.ts';

const SCALAR_TYPES = new Set(['string', 'number', 'boolean', 'date', 'datetime']);

/** Reads one mapped field; `out` holds the fields mapped before it (for `where` references). */
type Reader = (msg: Hl7Message, out: Record<string, unknown>, current: Hl7Segment | undefined) => unknown;
type GroupMapper = (msg: Hl7Message, current: Hl7Segment | undefined) => Record<string, unknown>;

/** Sender settings the mapping uses. */
export interface MappingOptions {
  /** IANA zone of the sender's local times: `as datetime` values without an offset get its offset. */
  timezone?: string;
}

function converter(as: FieldMapping['as'], opts: MappingOptions): (v: unknown) => unknown {
  const nullSafe = (f: (v: unknown) => unknown) => (v: unknown) => (v === null || v === undefined ? null : f(v));
  switch (as) {
    case 'number': return nullSafe(toNumber);
    case 'date': return nullSafe(toDate);
    case 'datetime': {
      const zone = opts.timezone;
      return nullSafe((v) => toDatetime(v, zone));
    }
    case 'string': return nullSafe(toText);
    default: return (v) => (v === undefined ? null : v);
  }
}

/** The values a path reads before conversion, in message order. */
function valuesReader(f: FieldMapping, path: Hl7Path, inCurrent: boolean): (msg: Hl7Message, out: Record<string, unknown>, current: Hl7Segment | undefined) => unknown[] {
  const simple = f.where === undefined && f.select === undefined && f.as !== 'raw';
  if (path.field === undefined && f.as === 'raw') {
    return inCurrent
      ? (_m, _o, current) => [current!.raw]
      : (msg) => msg.selectSegments(path.segment, path.segmentRep).map((s) => s.raw);
  }
  if (simple || path.field === undefined) {
    const wrap = (v: Hl7Value | Hl7Value[]): unknown[] => (Array.isArray(v) ? v : [v]);
    return inCurrent ? (_m, _o, current) => wrap(current!.get(path)) : (msg) => wrap(msg.get(path));
  }
  const [c, s] = f.select && f.select.length ? [f.select[0], f.select[1]] : [path.component, path.subcomponent];
  const raw = f.as === 'raw';
  const where = f.where;
  return (msg, out, current) => {
    let reps: Hl7Repetition[] = inCurrent ? current!.repetitions(path) : msg.repetitions(path);
    if (where) {
      // One scope for every repetition; `rel` reads the repetition under test.
      let rep: Hl7Repetition;
      const scope: Scope = { vars: out, rel: (k) => rep.value(k[0], k[1]) };
      reps = reps.filter((r) => ((rep = r), truthy(evaluate(where, scope))));
    }
    return reps.map((rep): Hl7Value => (raw ? rep.raw(c, s) : rep.value(c, s)));
  };
}

function compileField(f: FieldMapping, group: string | undefined, opts: MappingOptions): Reader {
  const read = compileRead(f, group, opts);
  const map = f.map;
  return map ? (msg, out, current) => applyValueMap(map, read(msg, out, current)) : read;
}

function compileRead(f: FieldMapping, group: string | undefined, opts: MappingOptions): Reader {
  const path = f.path!;
  const inCurrent = group !== undefined && path.segment === group;
  const list = (inCurrent ? path.fieldRep === '*' : path.segmentRep === '*' || path.fieldRep === '*') && !SCALAR_TYPES.has(f.type);
  const convert = converter(f.as, opts);
  const simple = f.where === undefined && f.select === undefined && f.as !== 'raw' && path.field !== undefined;
  // The common case: one position, no filter: a single read and no intermediate list.
  if (simple && path.fieldRep !== '*' && (inCurrent || path.segmentRep !== '*')) {
    return inCurrent
      ? (_m, _o, current) => convert(current!.value(path)) ?? null
      : (msg) => convert(msg.get(path)) ?? null;
  }
  const values = valuesReader(f, path, inCurrent);
  if (list) return (msg, out, current) => values(msg, out, current).map(convert);
  return (msg, out, current) => {
    const v = values(msg, out, current);
    return v.length ? (convert(v[0]) ?? null) : null;
  };
}

function compileGroup(fields: readonly FieldMapping[], group: string | undefined, opts: MappingOptions): GroupMapper {
  const names = fields.map((f) => f.name);
  const readers = fields.map((f): Reader => {
    if (f.each !== undefined) {
      const each = f.each;
      const record = compileGroup(f.fields ?? [], each, opts);
      return (msg) => msg.segments(each).map((seg) => record(msg, seg));
    }
    if (f.path) return compileField(f, group, opts);
    return () => null;
  });
  return (msg, current) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < readers.length; i++) out[names[i]!] = readers[i]!(msg, out, current);
    return out;
  };
}

const compiled = new WeakMap<readonly FieldMapping[], { timezone: string | undefined; mapper: GroupMapper }>();

/** Mapped field name → value, in declaration order. Never throws on missing data. */
export function mapFields(msg: Hl7Message, fields: readonly FieldMapping[], opts: MappingOptions = {}): Record<string, unknown> {
  let entry = compiled.get(fields);
  if (!entry || entry.timezone !== opts.timezone) {
    entry = { timezone: opts.timezone, mapper: compileGroup(fields, undefined, { timezone: opts.timezone }) };
    compiled.set(fields, entry);
  }
  return entry.mapper(msg, undefined);
}
