// The plan's integrity hash, computed exactly as the compiler computes it: sha256 over
// JSON.stringify of the plan without its `hash` field (key order as emitted).
import { createHash } from 'node:crypto';
import type { Plan } from '../../compiler/schema/plan.types.ts';

export function planHash(plan: Plan | Omit<Plan, 'hash'>): string {
  const { hash: _ignored, ...rest } = plan as Plan;
  return 'sha256:' + createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** Returns the plan with its `hash` set (placed first after planVersion/compiler, as emitted). */
export function withPlanHash(plan: Omit<Plan, 'hash'> & { hash?: string }): Plan {
  const { hash: _ignored, ...rest } = plan;
  const unhashed = rest as Omit<Plan, 'hash'>;
  const { planVersion, compiler, ...body } = unhashed;
  const ordered = { planVersion, compiler, hash: '', ...body } as Plan;
  ordered.hash = planHash(ordered);
  return ordered;
}
