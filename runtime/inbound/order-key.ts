// A workflow's `order by` key for one message: runs with the same key are processed in arrival
// order by the engine. Evaluated over the mapped fields and the `message` built-in.
import type { Workflow } from '../../plan/plan.types.ts';
import { evaluate } from '../workflows/expr/evaluate.ts';
import { toText } from '../workflows/expr/convert.ts';

export function orderKeyFor(workflow: Workflow, fields: Record<string, unknown>, message?: Record<string, unknown>): string | null {
  if (!workflow.orderBy) return null;
  const v = evaluate(workflow.orderBy, { vars: { ...fields, ...(message ? { message } : {}) } });
  if (v === null || v === undefined) return null;
  return typeof v === 'object' ? JSON.stringify(v) : toText(v);
}
