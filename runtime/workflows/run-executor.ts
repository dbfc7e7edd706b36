// Executes one workflow run step by step. Every step's result is written to run_steps before the
// next step starts; on a later attempt (after a crash, a transient failure or a replay) finished
// steps are not executed again: their recorded results are put back in scope instead. Steps
// nested in `if` and `for_each` have stable paths (`2/then/0`, `3/each/5/1`), and the branch
// taken and the items iterated are recorded too, so a resumed run walks the same way.
import type { Expr, Step, Workflow } from '../../plan/plan.types.ts';
import { truthy } from './expr/values.ts';
import type { ApiClient } from './http/api-client.ts';
import type { RunInput, RunOutcome } from '../journal/journal-schema.ts';
import { restoreSearch, runFhirStep } from './fhir-step.ts';
import { toText } from './request-values.ts';
import { runRestStep } from './rest-step.ts';
import type { RunRow, RunStore, StepRow } from './run-store.ts';
import { parseInput } from './run-store.ts';
import type { RunSession } from './run-writer.ts';
import { runSendStep } from './send-step.ts';
import { requireApi, type HttpResult, type StepContext } from './step-context.ts';
import { WorkflowError } from './workflow-error.ts';
import type { OutboundHeaders } from './outbound-headers.ts';

export type Evaluate = (expr: Expr, vars: Record<string, unknown>) => unknown;

export type RunEnd = ({ status: 'done' } | { status: 'rejected'; outcome: RunOutcome }) & {
  /** The last step's row, not yet written: the engine writes it with the run's final status. */
  last?: StepRow;
};

/** Thrown between steps when the engine is stopping: the run goes back to the queue. */
export class StopRequested extends Error {
  constructor() {
    super('engine stopping');
  }
}

export interface ExecutorDeps {
  /** Where finished steps and the message's bytes are read (SQLite's RunStore, or a run's preloaded rows). */
  store: Pick<RunStore, 'steps' | 'rawMessage'>;
  apis: Map<string, ApiClient>;
  evaluate: Evaluate;
  now: () => number;
  shouldStop: () => boolean;
  /** Headers for a step's requests (trace context), when a module supplies them. */
  outboundHeaders?: () => OutboundHeaders | undefined;
}

interface RunState {
  run: RunRow;
  input: RunInput;
  vars: Record<string, unknown> & { $meta: Record<string, { status: number; headers: Record<string, string> }> };
  done: Map<string, StepRow>;
  ctx: StepContext;
  writes: RunSession;
  /**
   * The latest step's row. It is written when the next step starts (so every result is on disk
   * before anything else happens), or together with the run's status when it was the last one.
   */
  pending?: StepRow;
}

type Walk = undefined | { reject: RunOutcome };

export class RunExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  async execute(run: RunRow, workflow: Workflow, writes: RunSession): Promise<RunEnd> {
    const input = parseInput(run);
    const vars = { ...input.fields, message: { ...input.message }, $meta: {} } as RunState['vars'];
    const done = new Map<string, StepRow>();
    // A run never touched since it was journaled has no steps yet.
    const fresh = run.attempts <= 1 && run.updated_at === run.created_at;
    if (!fresh) for (const row of this.deps.store.steps(run.id)) if (row.status === 'done') done.set(row.path, row);
    const ctx: StepContext = {
      runId: run.id,
      input,
      evaluate: (expr) => (expr ? this.deps.evaluate(expr, vars) : null),
      api: (name, step) => requireApi(this.deps.apis, name, step),
      rawMessage: () => this.deps.store.rawMessage(run.message_id),
    };
    const state: RunState = { run, input, vars, done, ctx, writes };
    const end = await this.walk(workflow.steps, '', state);
    const last = state.pending;
    return end ? { status: 'rejected', outcome: end.reject, last } : { status: 'done', last };
  }

  private async walk(steps: Step[], prefix: string, s: RunState): Promise<Walk> {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const path = prefix ? `${prefix}/${i}` : String(i);
      const end = await this.step(step, path, s);
      if (end) return end;
    }
    return undefined;
  }

  private async step(step: Step, path: string, s: RunState): Promise<Walk> {
    await this.flush(s);
    const recorded = s.done.get(path);
    const result = recorded?.result ? JSON.parse(recorded.result) : undefined;
    if (!recorded && this.deps.shouldStop()) throw new StopRequested();
    const started = this.deps.now();
    const record = (value: unknown) => this.record(s, step, path, started, value);

    try {
      switch (step.kind) {
        case 'fhir':
        case 'rest':
        case 'send': {
          let res: HttpResult = recorded ? restoreSearch(result) : result;
          if (!recorded) {
            const extra = this.deps.outboundHeaders?.()?.({ messageId: s.run.message_id, runId: s.run.id, attempt: s.run.attempts, stepPath: path });
            const ctx = extra ? { ...s.ctx, outboundHeaders: extra } : s.ctx;
            res = step.kind === 'fhir' ? await runFhirStep(step, ctx) : step.kind === 'rest' ? await runRestStep(step, ctx) : await runSendStep(step, ctx);
            const { stored, ...plain } = res;
            this.recordText(s, step, path, started, stored ?? JSON.stringify(plain));
          }
          if (step.named) {
            // `var`: a name given in both branches of an if (the ids differ, the variable is one).
            s.vars[step.var ?? step.id] = res.body;
            s.vars.$meta[step.var ?? step.id] = { status: res.status, headers: res.headers };
          }
          return undefined;
        }
        case 'let': {
          const value = recorded ? result.value : (s.ctx.evaluate(step.value) ?? null);
          if (!recorded) record({ value });
          // An assignment (`var`) gives the let variable it names a new value.
          s.vars[step.var ?? step.id] = value;
          return undefined;
        }
        case 'if': {
          const branch: 'then' | 'else' = recorded ? result.branch : truthy(s.ctx.evaluate(step.cond)) ? 'then' : 'else';
          if (!recorded) record({ branch });
          return this.walk((branch === 'then' ? step.then : step.else) ?? [], `${path}/${branch}`, s);
        }
        case 'for_each': {
          const items: unknown[] = recorded ? result.items : asList(s.ctx.evaluate(step.over));
          if (!recorded) record({ items });
          const name = step.var ?? step.id;
          const had = Object.prototype.hasOwnProperty.call(s.vars, name);
          const saved = s.vars[name];
          try {
            for (let n = 0; n < items.length; n++) {
              s.vars[name] = items[n];
              const end = await this.walk(step.steps ?? [], `${path}/each/${n}`, s);
              if (end) return end;
            }
          } finally {
            if (had) s.vars[name] = saved;
            else delete s.vars[name];
          }
          return undefined;
        }
        case 'store': {
          if (recorded) return undefined;
          if (!step.collection) throw new WorkflowError('store needs a collection', { transient: false, src: step.src });
          const key = step.key ? toText(s.ctx.evaluate(step.key)) : null;
          const now = this.deps.now();
          await s.writes.write({
            op: 'store',
            rec: { collection: step.collection, key, value: s.ctx.evaluate(step.value) ?? null, runId: s.run.id, now },
            row: this.row(s, step, path, started, now, null),
          });
          return undefined;
        }
        case 'reject': {
          const outcome: RunOutcome = recorded ? result : { code: step.code ?? 'AE', text: toText(s.ctx.evaluate(step.text)) ?? undefined };
          if (!recorded) record(outcome);
          return { reject: outcome };
        }
      }
    } catch (err) {
      if (err instanceof StopRequested) throw err;
      const failure = err instanceof WorkflowError ? err : new WorkflowError(`step ${step.id} failed: ${(err as Error)?.message ?? err}`, { transient: false, src: step.src, cause: err });
      failure.stepPath ??= path;
      const row = this.row(s, step, path, started, this.deps.now(), null);
      row.status = 'failed';
      row.error = failure.message;
      await s.writes.write({ op: 'step', row });
      throw failure;
    }
  }

  private record(s: RunState, step: Step, path: string, started: number, value: unknown): void {
    this.recordText(s, step, path, started, JSON.stringify(value));
  }

  private recordText(s: RunState, step: Step, path: string, started: number, result: string): void {
    const row = this.row(s, step, path, started, this.deps.now(), result);
    s.pending = row;
    s.done.set(path, row);
  }

  private async flush(s: RunState): Promise<void> {
    const row = s.pending;
    if (!row) return;
    s.pending = undefined;
    await s.writes.write({ op: 'step', row });
  }

  private row(s: RunState, step: Step, path: string, started: number, finished: number, result: string | null): StepRow {
    return {
      run_id: s.run.id,
      path,
      step_id: step.id,
      kind: step.kind,
      status: 'done',
      result,
      attempt: s.run.attempts,
      started_at: started,
      finished_at: finished,
      error: null,
    };
  }
}

function asList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
