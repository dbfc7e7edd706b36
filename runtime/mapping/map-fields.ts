// Runs a sender's field mappings over a parsed message.
//
// - `path` reads the message (see Hl7Message.get for what a position reads as);
// - `where` keeps the repetitions for which it holds, its `rel` nodes reading a component
//   (and subcomponent) of each repetition; `select` then takes a component/subcomponent of each
//   kept repetition (without it, the path's own component/subcomponent);
// - `as` converts: string, number, date, datetime (as the expression functions do), raw (the
//   escaped ER7 text as written);
// - `each: SEG` + `fields` gives one record per SEG segment; inside, paths on SEG read the current
//   segment and paths on other segments read the whole message.
// A path with `*` yields a list — unless the compiler typed the field as a scalar (string,
// number, boolean, date, datetime), which reads the first kept value. Otherwise a scalar, null
// when absent.
import type { FieldMapping, Hl7Path } from '../../compiler/schema/plan.types.ts';
import { isListPath } from '../../compiler/syntax/hl7-path.ts';
import { evaluate } from '../expr/evaluate.ts';
import { toDate, toDatetime, toNumber, toText } from '../expr/convert.ts';
import { truthy } from '../expr/values.ts';
import type { Hl7Message, Hl7Repetition, Hl7Segment, Hl7Value } from '../hl7/index.ts';

const SCALAR_TYPES = new Set(['string', 'number', 'boolean', 'date', 'datetime']);

function convert(v: unknown, as: FieldMapping['as']): unknown {
  if (v === null || v === undefined) return null;
  switch (as) {
    case 'number': return toNumber(v);
    case 'date': return toDate(v);
    case 'datetime': return toDatetime(v);
    case 'string': return toText(v);
    default: return v;
  }
}

/** The repetitions a path covers, inside `current` when the path names its segment. */
function repetitionsOf(msg: Hl7Message, path: Hl7Path, current?: Hl7Segment): Hl7Repetition[] {
  if (current && path.segment === current.name) return current.repetitions(path);
  return msg.repetitions(path);
}

function read(msg: Hl7Message, f: FieldMapping, vars: Record<string, unknown>, current?: Hl7Segment): unknown {
  const path = f.path!;
  const inCurrent = current !== undefined && path.segment === current.name;
  const list = (inCurrent ? path.fieldRep === '*' : isListPath(path)) && !SCALAR_TYPES.has(f.type);
  const simple = f.where === undefined && f.select === undefined && f.as !== 'raw';

  let values: unknown[];
  if (simple || path.field === undefined) {
    const v = inCurrent ? current!.get(path) : msg.get(path);
    if (path.field === undefined && f.as === 'raw') {
      values = inCurrent ? [current!.raw] : msg.selectSegments(path.segment, path.segmentRep).map((s) => s.raw);
    } else values = Array.isArray(v) ? v : [v];
  } else {
    let reps = repetitionsOf(msg, path, current);
    if (f.where) {
      const where = f.where;
      reps = reps.filter((rep) => truthy(evaluate(where, { vars, rel: (c) => rep.value(c[0], c[1]) })));
    }
    const [c, s] = f.select && f.select.length ? [f.select[0], f.select[1]] : [path.component, path.subcomponent];
    values = reps.map((rep): Hl7Value => (f.as === 'raw' ? rep.raw(c, s) : rep.value(c, s)));
  }
  const converted = values.map((v) => convert(v, f.as));
  return list ? converted : (converted[0] ?? null);
}

function mapIn(msg: Hl7Message, fields: readonly FieldMapping[], current?: Hl7Segment): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.each !== undefined) {
      out[f.name] = msg.segments(f.each).map((seg) => mapIn(msg, f.fields ?? [], seg));
    } else if (f.path) {
      out[f.name] = read(msg, f, out, current);
    } else {
      out[f.name] = null;
    }
  }
  return out;
}

/** Mapped field name → value, in declaration order. Never throws on missing data. */
export function mapFields(msg: Hl7Message, fields: readonly FieldMapping[]): Record<string, unknown> {
  return mapIn(msg, fields);
}
