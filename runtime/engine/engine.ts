// The workflow engine: takes runs from the journal queue (workflow_runs) and executes them with
// bounded concurrency (engine-wide, and per workflow when the plan sets `concurrency`). Runs that
// share an order key (the workflow's `orderBy`) run one at a time, in journal order. Transient
// failures retry with exponential backoff; a permanent failure or the last attempt makes the run
// a dead letter, which `hdc runs replay` puts back in the queue.
//
// `finished` events are emitted for settled runs only (done, rejected, dead): a run waiting to
// retry is not settled, so an `ack after_workflow` sender gets the commit-level ACK at its timeout
// (the message is safely journaled and will be processed).
import Database from 'better-sqlite3';
import type { Plan, Workflow } from '../../compiler/schema/plan.types.ts';
import type { AuthProvider } from '../auth/auth-provider.ts';
import { evaluate as evaluateExpr } from '../expr/evaluate.ts';
import type { ApiClientOptions } from '../http/api-client.ts';
import type { RunEvents } from '../journal/run-events.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { createApiRegistry, type ApiRegistry, type ApiRegistryOptions } from './api-registry.ts';
import { createValueResolver, type ValueResolver } from './resolve-value.ts';
import { RunExecutor, StopRequested, type Evaluate } from './run-executor.ts';
import { RunStore, type RunRow, type StepRow } from './run-store.ts';
import { InlineRunWriter, RunSession, ThreadRunWriter, type RunWriter } from './run-writer.ts';
import { WorkflowError } from './workflow-error.ts';

export interface EngineOptions {
  /**
   * The runtime's database (migrated, engine tables included). The engine opens its own
   * connection to the same file (see `ownConnection`).
   */
  db: Database.Database;
  /**
   * Default true: a second connection with synchronous=NORMAL. In WAL mode a commit then survives
   * a crash of the process (what resuming relies on) without an fsync per step; after a power
   * loss the last steps may run again, which at-least-once steps allow. The journal keeps
   * synchronous=FULL on its own connection: nothing acknowledged is lost.
   */
  ownConnection?: boolean;
  /** Where writes happen: a writer thread (default for database files) or inline. */
  writer?: 'thread' | 'inline';
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
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly writer: RunWriter;
  /** Runs this engine is executing; their claim may not have committed yet. */
  private readonly claimed = new Set<number>();
  /** Ready runs read from the queue, not started yet (see fill). */
  private ready: RunRow[] = [];
  private readyAt = 0;
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
    this.ownsDb = opts.ownConnection !== false && !opts.db.memory;
    this.db = this.ownsDb ? openEngineConnection(opts.db.name) : opts.db;
    this.store = new RunStore(this.db);
    this.writer = (opts.writer ?? (opts.db.memory ? 'inline' : 'thread')) === 'thread' ? new ThreadRunWriter(opts.db.name) : new InlineRunWriter(this.store);
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
    await this.writer.close();
    this.apis.close();
    if (this.ownsDb && this.db.open) this.db.close();
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

  /**
   * Starts ready runs up to the concurrency limits. Candidates are read from the queue a page at a
   * time and kept briefly, so a busy engine does not query the queue for every run it starts.
   */
  private fill(): void {
    if (this.running && this.active < this.concurrency) {
      if (this.now() - this.readyAt > (this.opts.pollMs ?? 1000)) this.refill();
      this.startBuffered();
      // Room left: the buffer ran dry or waits on workflow limits; read the queue afresh.
      if (this.active < this.concurrency) {
        this.refill();
        this.startBuffered();
      }
    }
    if (this.active === 0 && this.idleWaiters.length && !this.hasReadyRun()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private startBuffered(): void {
    const keep: RunRow[] = [];
    for (const run of this.ready) {
      if (this.claimed.has(run.id)) continue;
      if (this.active >= this.concurrency || this.atLimit(run)) {
        keep.push(run);
        continue;
      }
      this.claimed.add(run.id);
      this.launch({ ...run, status: 'running', attempts: run.attempts + 1 }, this.workflows.get(run.workflow));
    }
    this.ready = keep;
  }

  private atLimit(run: RunRow): boolean {
    const limit = this.workflows.get(run.workflow)?.concurrency ?? Infinity;
    return (this.activeByWorkflow.get(run.workflow) ?? 0) >= limit;
  }

  /** Reads ready runs not running here yet; pages further while all of them wait on a limit. */
  private refill(): void {
    const page = Math.max(this.concurrency * 8, 64);
    const out: RunRow[] = [];
    for (let offset = 0; offset < page * 10; offset += page) {
      const rows = this.store.readyRuns(this.now(), page, offset);
      for (const r of rows) if (!this.claimed.has(r.id)) out.push(r);
      if (rows.length < page || out.some((r) => !this.atLimit(r))) break;
    }
    this.ready = out;
    this.readyAt = this.now();
  }

  private hasReadyRun(): boolean {
    this.refill();
    return this.ready.length > 0;
  }

  private schedule(): void {
    if (!this.running) return;
    // While every slot is busy a finishing run pumps again; the timer only matters with room.
    if (this.active >= this.concurrency && this.timer) return;
    clearTimeout(this.timer);
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
    const p = this.execute(run, wf)
      .catch((err) => this.log.error({ runId: run.id, error: (err as Error)?.message }, 'could not record the end of a workflow run'))
      .finally(() => {
      this.claimed.delete(run.id);
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
    const writes = new RunSession(this.writer, run.id, started);
    try {
      if (!wf) throw new WorkflowError(`workflow ${run.workflow} is not in the loaded plan`, { transient: false });
      const end = await this.executor.execute(run, wf, writes);
      if (end.status === 'rejected') await this.settle(run, writes, 'rejected', { outcome: end.outcome, last: end.last });
      else await this.settle(run, writes, 'done', { last: end.last });
      // One line per run is too many at info on a busy runtime: the periodic traffic line counts them.
      this.log.debug({ runId: run.id, workflow: run.workflow, status: end.status, ms: this.now() - started }, 'workflow run finished');
    } catch (err) {
      if (err instanceof StopRequested) {
        await writes.write({ op: 'release', id: run.id, now: this.now() });
        return;
      }
      const failure = err instanceof WorkflowError ? err : new WorkflowError(`internal error: ${(err as Error)?.message ?? err}`, { transient: true, cause: err });
      const maxAttempts = this.opts.maxAttempts ?? 5;
      if (failure.transient && run.attempts < maxAttempts) {
        const base = this.opts.retryBaseMs ?? 30_000;
        const backoff = Math.min(this.opts.retryMaxMs ?? 30 * 60_000, base * 2 ** (run.attempts - 1)) * (0.5 + (this.opts.random ?? Math.random)());
        const wait = Math.max(Math.round(backoff), failure.retryAfterMs ?? 0);
        await writes.write({ op: 'finish', id: run.id, status: 'failed', now: this.now(), extra: { error: failure.message, nextAttemptAt: this.now() + wait } });
        this.log.warn({ runId: run.id, workflow: run.workflow, attempt: run.attempts, retryInMs: wait, error: failure.message }, 'workflow run failed; will retry');
      } else {
        await this.settle(run, writes, 'dead', { error: failure.message });
        this.log.error({ runId: run.id, workflow: run.workflow, attempt: run.attempts, error: failure.message }, 'workflow run is a dead letter');
      }
    }
  }

  private async settle(
    run: RunRow,
    writes: RunSession,
    status: 'done' | 'rejected' | 'dead',
    extra: { outcome?: { code: 'AE' | 'AR'; text?: string } | Record<string, unknown>; error?: string; last?: StepRow },
  ): Promise<void> {
    const outcome = extra.outcome as { code?: 'AA' | 'AE' | 'AR'; text?: string } | undefined;
    await writes.write({ op: 'finish', id: run.id, status, now: this.now(), extra: { outcome, error: extra.error, lastStep: extra.last } });
    this.stats.settled++;
    this.opts.events?.emit('finished', { runId: run.id, workflow: run.workflow, status, ...(outcome ? { outcome } : {}) });
  }
}

function openEngineConnection(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  return db;
}
