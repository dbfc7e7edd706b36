// `hdc explain` for transforms: the project's own transforms, and for each override
// (`extends std.patient`) which elements it replaces and which it adds to the library's.
import type { Expr, Plan, Transform } from '../../plan/plan.types.ts';
import { exprText } from './expr-text.ts';

export interface TransformSummary {
  name: string;
  params: string;
  result: string;
  extends?: string;
  replaced: Array<[string, string]>;
  added: Array<[string, string]>;
}

/** Without src, so the same expression written in two files compares equal. */
const shape = (e: Expr): string => JSON.stringify(e, (k, v) => (k === 'src' ? undefined : v));

export function transformSummaries(plan: Plan): TransformSummary[] {
  const all = new Map((plan.transforms ?? []).map((t) => [t.name, t]));
  return (plan.transforms ?? []).filter((t) => !t.name.startsWith('std.')).map((t) => summary(t, all));
}

function summary(t: Transform, all: Map<string, Transform>): TransformSummary {
  const s: TransformSummary = {
    name: t.name,
    params: t.params.map((p) => `${p.name}: ${p.kind === 'group' ? `each ${p.type}` : p.type ?? p.kind}`).join(', '),
    result: t.resultType,
    replaced: [],
    added: [],
  };
  const base = t.extends ? all.get(t.extends) : undefined;
  if (!t.extends || !base) return s;
  s.extends = t.extends;
  const before = new Map((base.body.object ?? []).map((e) => [e.key, e.value]));
  for (const e of t.body.object ?? []) {
    const old = before.get(e.key);
    if (!old) s.added.push([e.key, exprText(e.value)]);
    else if (shape(old) !== shape(e.value)) s.replaced.push([e.key, exprText(e.value)]);
  }
  return s;
}
