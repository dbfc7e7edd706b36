// The plan's one integrity hash: sha256 over the canonical JSON of the plan without its `hash`
// field (object keys sorted, no whitespace). Canonical, so a plan re-serialised by another tool
// (keys reordered, re-indented) is still accepted, and the compiler and the runtime cannot
// disagree about what was hashed.
import { createHash } from 'node:crypto';
import type { Plan } from './plan.types.ts';

/** JSON with object keys sorted at every level; undefined members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',') + ']';
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + canonicalJson(v));
  }
  return '{' + parts.join(',') + '}';
}

export function planHash(plan: { hash?: string }): string {
  const { hash: _ignored, ...rest } = plan;
  return 'sha256:' + createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The plan with its `hash` set, placed after planVersion and compiler as the compiler emits it. */
export function withPlanHash(plan: Omit<Plan, 'hash'> & { hash?: string }): Plan {
  const { hash: _ignored, planVersion, compiler, ...body } = plan;
  const ordered: Plan = { planVersion, compiler, hash: '', ...body };
  ordered.hash = planHash(ordered);
  return ordered;
}
