// Runs a plan's transforms: binds parameters, evaluates `let`s then the body with the same
// expression evaluator as workflows. A list passed for a
// segment or composite parameter calls the transform once per item (nulls dropped). The compiler
// puts a resource's resourceType first in the body.
import type { Plan, Transform } from '../../plan/plan.types.ts';
import { evaluate, type Scope, type TransformHost } from '../workflows/expr/evaluate.ts';
import { readHl7 } from './hl7-values.ts';

const MAX_DEPTH = 64;

export class TransformRunner implements TransformHost {
  private readonly byName = new Map<string, Transform>();
  private depth = 0;
  constructor(transforms: readonly Transform[]) {
    for (const t of transforms) this.byName.set(t.name, t);
  }
  static forPlan(plan: Pick<Plan, 'transforms'>): TransformRunner {
    return new TransformRunner(plan.transforms ?? []);
  }
  has(name: string): boolean { return this.byName.has(name); }
  names(): string[] { return [...this.byName.keys()]; }
  get(name: string): Transform | undefined { return this.byName.get(name); }

  read(base: unknown, read: Parameters<TransformHost['read']>[1]): unknown {
    return readHl7(base, read);
  }

  call(name: string, args: unknown[], scope: Scope, src?: string): unknown {
    const t = this.byName.get(name);
    if (!t) throw new Error(`${src ?? name}: unknown transform ${name}`);
    const first = t.params[0];
    if (first && (first.kind === 'segment' || first.kind === 'composite') && Array.isArray(args[0])) {
      return args[0].map((item) => this.call(name, [item, ...args.slice(1)], scope, src)).filter((v) => v !== null && v !== undefined);
    }
    // No HL7 data at all (every segment, group or composite parameter absent): nothing to transform.
    const hl7 = t.params.map((p, i) => [p, args[i]] as const).filter(([p]) => p.kind !== 'value');
    if (hl7.length && hl7.every(([, a]) => a === null || a === undefined || (Array.isArray(a) && a.length === 0))) return null;
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      throw new Error(`${t.src.replace(/:(\d+):\d+-.*$/, ':$1')}: transform ${name} calls itself more than ${MAX_DEPTH} deep`);
    }
    try {
      const vars: Record<string, unknown> = {};
      t.params.forEach((p, i) => { vars[p.name] = args[i] ?? null; });
      const inner: Scope = { ...scope, vars };
      for (const l of t.lets) vars[l.key] = evaluate(l.value, inner);
      return evaluate(t.body, inner);
    } finally {
      this.depth--;
    }
  }
}
