// Reads and checks an execution plan before anything listens: schema (the precompiled
// validator), planVersion, and the integrity hash the compiler wrote.
import { readFileSync } from 'node:fs';
import type { Plan } from './plan.types.ts';
import validatePlan from './validate-plan.js';
import { planHash } from './plan-hash.ts';

export const SUPPORTED_PLAN_VERSION = 1;

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export function checkPlan(data: unknown, origin = 'plan'): Plan {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PlanError(`${origin}: not an execution plan (expected a JSON object)`);
  }
  const version = (data as { planVersion?: unknown }).planVersion;
  if (version !== SUPPORTED_PLAN_VERSION) {
    throw new PlanError(
      `${origin}: plan version ${JSON.stringify(version)} is not supported by this runtime ` +
        `(expected ${SUPPORTED_PLAN_VERSION}); recompile the .hdc files with this hdc`,
    );
  }
  if (!validatePlan(data)) {
    const errors = (validatePlan.errors ?? []).slice(0, 8).map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''}`);
    const more = (validatePlan.errors?.length ?? 0) > 8 ? `\n  … ${validatePlan.errors!.length - 8} more` : '';
    throw new PlanError(`${origin}: invalid plan:\n${errors.join('\n')}${more}`);
  }
  const expected = planHash(data);
  if (data.hash !== expected) {
    throw new PlanError(
      `${origin}: plan hash does not match its content (edited by hand or stale); recompile it with \`hdc compile\``,
    );
  }
  return data;
}

export function loadPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlanError(`${path}: cannot read the plan (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PlanError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return checkPlan(data, path);
}
