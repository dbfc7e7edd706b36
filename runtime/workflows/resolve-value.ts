// Deployment values (`env()`, `file()`): `hdc run` resolves the whole plan at start-up, so they
// usually arrive as strings; anything still a reference (plans built in tests, `hdc test`) is
// resolved here the same way.
import type { Value } from '../../plan/plan.types.ts';
import { resolveValue, type ResolveContext } from '../platform/config/resolve-values.ts';

export type ValueResolver = (value: Value) => string;

export function createValueResolver(ctx: Partial<ResolveContext> = {}): ValueResolver {
  const full: ResolveContext = { env: ctx.env ?? process.env, workDir: ctx.workDir ?? process.cwd() };
  return (value) => (typeof value === 'string' ? value : resolveValue(value, full));
}
