// `hdc explain`: a reviewer's summary of an execution plan.
import type { Plan } from '../../plan/plan.types.ts';
import { renderSummary, type ExplainFormat } from './render.ts';
import { summarize } from './summary.ts';

export type { ExplainFormat } from './render.ts';
export { summarize, type Summary } from './summary.ts';
export { exprText, valueText } from './expr-text.ts';

export function explainPlan(plan: Plan, format: ExplainFormat = 'markdown'): string {
  const summary = summarize(plan);
  return format === 'json' ? JSON.stringify(summary, null, 2) + '\n' : renderSummary(summary, format);
}
