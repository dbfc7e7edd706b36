// HL7 data as transform values: a message, its segments and composite values (a field repetition
// or a component), read by the plan's `hl7` nodes. Reads are total: absent data is null.
import type { Hl7Read } from '../../plan/plan.types.ts';
import type { Hl7Message } from '../inbound/hl7/index.ts';

type Leaf = string | null;
/** Components, each a list of subcomponents. */
export type Components = Leaf[][];

export class MessageValue {
  readonly segments: SegmentValue[];
  constructor(msg: Hl7Message) {
    this.segments = msg.segments().map((s, i) => new SegmentValue(s.name, i, s.toJSON().fields, this));
  }
  first(id: string): SegmentValue | null {
    return this.segments.find((s) => s.id === id) ?? null;
  }
  all(id: string): SegmentValue[] {
    return this.segments.filter((s) => s.id === id);
  }
}

export class SegmentValue {
  constructor(
    readonly id: string,
    readonly index: number,
    readonly fields: Record<string, Leaf[][][]>,
    private readonly message: MessageValue,
  ) {}
  /** The segments of `id` after this one, up to the next segment with this one's own ID. */
  children(id: string): SegmentValue[] {
    const out: SegmentValue[] = [];
    for (const s of this.message.segments.slice(this.index + 1)) {
      if (s.id === this.id) break;
      if (s.id === id) out.push(s);
    }
    return out;
  }
  toJSON(): string { return this.id; }
}

export class CompositeValue {
  /** fromComponent: the subcomponents of one component, each held as a component. */
  constructor(readonly components: Components, readonly fromComponent = false) {}
  toJSON(): string | null { return er7(this); }
}

const text = (v: Leaf | undefined): Leaf => (v === undefined || v === null || v === '' ? null : v);
const hasData = (c: Components): boolean => c.some((sub) => sub.some((s) => s !== null && s !== ''));

function readComponents(c: Components, r: Hl7Read, comp?: number, sub?: number): unknown {
  if (comp === undefined) return r.struct ? (hasData(c) ? new CompositeValue(c) : null) : text(c[0]?.[0]);
  const pieces = c[comp - 1];
  if (!pieces) return null;
  if (sub === undefined) {
    if (!r.struct) return text(pieces[0]);
    const asComps = pieces.map((s) => [s]);
    return hasData(asComps) ? new CompositeValue(asComps, true) : null;
  }
  return text(pieces[sub - 1]);
}

function readSegment(seg: SegmentValue, r: Hl7Read): unknown {
  if (r.children) return seg.children(r.children);
  if (r.field === undefined) return seg;
  if (r.field === 0) return seg.id;
  const reps = seg.fields[r.field] ?? [];
  if (r.rep === '*') return reps.map((rep) => readComponents(rep, r, r.component, r.subcomponent)).filter((v) => v !== null);
  const rep = reps[(r.rep ?? 1) - 1];
  return rep ? readComponents(rep, r, r.component, r.subcomponent) : null;
}

/** Applies one read to its base (a list base is read item by item, results flattened). */
export function readHl7(base: unknown, r: Hl7Read): unknown {
  if (Array.isArray(base)) {
    const out: unknown[] = [];
    for (const b of base) {
      const v = readHl7(b, r);
      if (Array.isArray(v)) out.push(...v);
      else if (v !== null) out.push(v);
    }
    return out;
  }
  if (r.from === 'message') {
    if (!(base instanceof MessageValue)) return null;
    const segs = r.all ? base.all(r.segment!) : [base.first(r.segment!)].filter((s): s is SegmentValue => s !== null);
    if (r.field === undefined && !r.children) return r.all ? segs : (segs[0] ?? null);
    return r.all ? readHl7(segs, { ...r, from: 'segment' }) : segs[0] ? readSegment(segs[0], r) : null;
  }
  if (r.from === 'segment') return base instanceof SegmentValue ? readSegment(base, r) : null;
  if (base instanceof CompositeValue) return readComponents(base.components, r, r.component, r.subcomponent);
  // A composite read on plain text: its first component is the text itself.
  if (typeof base === 'string') return (r.component ?? 1) === 1 && (r.subcomponent ?? 1) === 1 ? base : null;
  return null;
}

/** ER7 text of a composite (`^` between components, `&` between subcomponents, trailing empties cut). */
export function er7(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!(v instanceof CompositeValue)) return null;
  const trim = (xs: string[]) => { while (xs.length && xs[xs.length - 1] === '') xs.pop(); return xs; };
  const sep = v.fromComponent ? '&' : '^';
  const out = trim(v.components.map((sub) => trim(sub.map((s) => s ?? '')).join('&'))).join(sep);
  return out === '' ? null : out;
}
