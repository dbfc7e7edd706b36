// The workflow engine: takes runs from the journal queue (workflow_runs) and executes them with
// bounded concurrency (engine-wide, and per workflow when the plan sets `concurrency`). Runs that
// share an order key (the workflow's `orderBy`) run one at a time, in journal order. Transient
// failures retry with exponential backoff; a permanent failure or the last attempt makes the run
// a dead letter, which `hdc runs replay` puts back in the queue.
//
// `finished` events are emitted for settled runs only (done, rejected, dead): a run waiting to
// retry is not settled, so an `ack after_workflow` sender gets the commit-level ACK at its timeout
// (the message is safely journaled and will be processed).
import type { Database } from 'better-sqlite3';
import type { Plan, Workflow } from '../../compiler/schema/plan.types.ts';
import type { AuthProvider } from '../auth/auth-provider.ts';
import { evaluate as evaluateExpr } from '../expr/evaluate.ts';
import type { ApiClientOptions } from '../http/api-client.ts';
import type { RunEvents } from '../journal/run-events.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { createApiRegistry, type ApiRegistry, type ApiRegistryOptions } from './api-registry.ts';
import { createValueResolver, type ValueResolver } from './resolve-value.ts';
import { RunExecutor, StopRequested, type Evaluate } from './run-executor.ts';
import { RunStore, type RunRow } from './run-store.ts';
import { WorkflowError } from './workflow-error.ts';

export interface EngineOptions {
  /** A connection to the runtime's database (migrated, engine tables included). */
  db: Database;
  plan: Plan;
  resolve?: ValueResolver;
  /** Where `enqueued` wakes the engine and `finished` is announced. */
  events?: RunEvents;
  logger?: Logger;
  /** Runs executing at once, engine-wide. Default 8. */
  concurrency?: number;
  /** Attempts per run before it becomes a dead letter. Default 5. */
  maxAttempts?: number;
  /** Backoff before the second attempt of a run; doubles per attempt, with jitter. Default 30 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Safety-net poll for runs whose retry time has come. Default 1 s. */
  pollMs?: number;
  transport?: ApiRegistryOptions['transport'];
  auths?: Map<string, AuthProvider>;
  client?: ApiClientOptions;
  now?: () => number;
  random?: () => number;
  evaluate?: Evaluate;
}

export interface EngineStats {
  active: number;
  started: number;
  settled: number;
}

export class Engine {
  readonly store: RunStore;
  readonly apis: ApiRegistry;
  private readonly workflows: Map<string, Workflow>;
  private readonly executor: RunExecutor;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly activeByWorkflow = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  private active = 0;
  private running = false;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;
  private idleWaiters: Array<() => void> = [];
  private readonly onEnqueued = () => this.pump();
  readonly stats: EngineStats = { active: 0, started: 0, settled: 0 };

  constructor(private readonly opts: EngineOptions) {
    this.store = new RunStore(opts.db);
    this.log = opts.logger ?? silentLogger();
    this.now = opts.now ?? Date.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.workflows = new Map(opts.plan.workflows.map((w) => [w.name, w]));
    const resolve = opts.resolve ?? createValueResolver();
    this.apis = createApiRegistry(opts.plan, { resolve, transport: opts.transport, auths: opts.auths, client: opts.client });
    const secrets = resolve;
    this.executor = new RunExecutor({
      store: this.store,
      apis: this.apis.clients,
      evaluate: opts.evaluate ?? ((expr, vars) => evaluateExpr(expr, { vars, secrets })),
      now: this.now,
      shouldStop: () => this.stopping,
    });
  }

  /** Recovers runs interrupted by a crash and starts taking work from the queue. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    const recovered = this.store.recoverInterrupted(this.now());
    if (recovered) this.log.info({ runs: recovered }, 'resuming interrupted workflow runs');
    this.opts.events?.on('enqueued', this.onEnqueued);
    this.pump();
  }

  /** Stops taking work; runs in progress stop at their next step boundary and stay queued. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    this.opts.events?.off('enqueued', this.onEnqueued);
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inflight]);
    this.apis.close();
  }

  /** Resolves when no run is executing and none is ready now (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.active === 0 && !this.hasReadyRun()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Wakes the engine (e.g. after enqueueing runs without the event). */
  pump(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.fill();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.schedule();
  }

  private fill(): void {
    while (this.running && this.active < this.concurrency) {
      // Page through ready runs: the first ones may all belong to a workflow at its own limit.
      const page = Math.max((this.concurrency - this.active) * 4, 16);
      let claimed = 0;
      let seen = 0;
      for (let offset = 0; this.active < this.concurrency; offset += page) {
        const candidates = this.store.readyRuns(this.now(), page, offset);
        seen += candidates.length;
        for (const run of candidates) {
          if (this.active >= this.concurrency) break;
          const wf = this.workflows.get(run.workflow);
          const limit = wf?.concurrency ?? Infinity;
          if ((this.activeByWorkflow.get(run.workflow) ?? 0) >= limit) continue;
          if (!this.store.claimRun(run.id, this.now())) continue;
          claimed++;
          this.launch({ ...run, status: 'running', attempts: run.attempts + 1 }, wf);
        }
        if (candidates.length < page || seen >= 10_000) break;
      }
      if (claimed === 0) break;
    }
    if (this.active === 0 && this.idleWaiters.length && !this.hasReadyRun()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private hasReadyRun(): boolean {
    return this.store.readyRuns(this.now(), 1).length > 0;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    const due = this.store.nextDueAt();
    const poll = this.opts.pollMs ?? 1000;
    const wait = due === null ? poll : Math.min(poll, Math.max(0, due - this.now()));
    this.timer = setTimeout(() => this.pump(), wait);
    this.timer.unref();
  }

  private launch(run: RunRow, wf: Workflow | undefined): void {
    this.active++;
    this.stats.active = this.active;
    this.stats.started++;
    this.activeByWorkflow.set(run.workflow, (this.activeByWorkflow.get(run.workflow) ?? 0) + 1);
    const p = this.execute(run, wf).finally(() => {
      this.active--;
      this.stats.active = this.active;
      this.activeByWorkflow.set(run.workflow, this.activeByWorkflow.get(run.workflow)! - 1);
      this.inflight.delete(p);
      this.pump();
    });
    this.inflight.add(p);
  }

  private async execute(run: RunRow, wf: Workflow | undefined): Promise<void> {
    const started = this.now();
    try {
      if (!wf) throw new WorkflowError(`workflow ${run.workflow} is not in the loaded plan`, { transient: false });
      const end = await this.executor.execute(run, wf);
      if (end.status === 'rejected') this.settle(run, 'rejected', { outcome: end.outcome });
      else this.settle(run, 'done', {});
      this.log.info({ runId: run.id, workflow: run.workflow, status: end.status, ms: this.now() - started }, 'workflow run finished');
    } catch (err) {
      if (err instanceof StopRequested) {
        this.opts.db.prepare(`UPDATE workflow_runs SET status = 'queued', attempts = MAX(attempts - 1, 0), updated_at = ? WHERE id = ?`).run(this.now(), run.id);
        return;
      }
      const failure = err instanceof WorkflowError ? err : new WorkflowError(`internal error: ${(err as Error)?.message ?? err}`, { transient: true, cause: err });
      const maxAttempts = this.opts.maxAttempts ?? 5;
      if (failure.transient && run.attempts < maxAttempts) {
        const base = this.opts.retryBaseMs ?? 30_000;
        const backoff = Math.min(this.opts.retryMaxMs ?? 30 * 60_000, base * 2 ** (run.attempts - 1)) * (0.5 + (this.opts.random ?? Math.random)());
        const wait = Math.max(Math.round(backoff), failure.retryAfterMs ?? 0);
        this.store.finishRun(run.id, 'failed', this.now(), { error: failure.message, nextAttemptAt: this.now() + wait });
        this.log.warn({ runId: run.id, workflow: run.workflow, attempt: run.attempts, retryInMs: wait, error: failure.message }, 'workflow run failed; will retry');
      } else {
        this.settle(run, 'dead', { error: failure.message });
        this.log.error({ runId: run.id, workflow: run.workflow, attempt: run.attempts, error: failure.message }, 'workflow run is a dead letter');
      }
    }
  }

  private settle(run: RunRow, status: 'done' | 'rejected' | 'dead', extra: { outcome?: { code: 'AE' | 'AR'; text?: string } | Record<string, unknown>; error?: string }): void {
    const outcome = extra.outcome as { code?: 'AA' | 'AE' | 'AR'; text?: string } | undefined;
    this.store.finishRun(run.id, status, this.now(), { outcome, error: extra.error });
    this.stats.settled++;
    this.opts.events?.emit('finished', { runId: run.id, status, ...(outcome ? { outcome } : {}) });
  }
}
