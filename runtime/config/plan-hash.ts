// The runtime checks plans with the one hash the compiler writes (plan/plan-hash.ts).
import type { Plan } from '../../compiler/schema/plan.types.ts';
import { withPlanHash as hashed } from '../../plan/plan-hash.ts';

export { planHash } from '../../plan/plan-hash.ts';

export function withPlanHash(plan: Omit<Plan, 'hash'> & { hash?: string }): Plan {
  return hashed(plan) as Plan;
}
