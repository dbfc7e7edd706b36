// The workflow engine: takes runs from the journal queue (workflow_runs) and executes them with
// bounded concurrency (engine-wide, and per workflow when the plan sets `concurrency`). Runs that
// share an order key (the workflow's `orderBy`) run one at a time, in journal order. A transient
// failure ends the attempt; the run tries again later by the retry policy of the API that failed
// (`retry N backoff D max M`), resuming at the failed step. A permanent failure or the last
// attempt makes the run a dead letter, which `hdc runs replay` puts back in the queue. Every
// attempt is recorded (run_attempts) with its time, status and error.
//
// `finished` events are emitted for settled runs only (done, rejected, dead). A failed attempt
// emits `retrying` with the next try's time, so an `ack after_workflow` sender whose run cannot
// finish within its timeout gets the commit-level ACK at once. A rejection (AE/AR) that no
// listener waits to put in an ACK was acknowledged positively already: it becomes a dead letter
// with the reason "rejected after acknowledgement".
import Database from 'better-sqlite3';
import { TransformRunner } from '../transforms/run-transform.ts';
import type { Plan, Workflow } from '../../plan/plan.types.ts';
import type { AuthProvider } from './auth/auth-provider.ts';
import { evaluate as evaluateExpr } from './expr/evaluate.ts';
import type { ApiClientOptions } from './http/api-client.ts';
import type { RunEvents } from '../journal/run-events.ts';
import type { RunOutcome } from '../journal/journal-schema.ts';
import { silentLogger, type Logger } from '../platform/log/logger.ts';
import { DEFAULT_RETRY, nextRetryDelay, type RetryPolicy } from './http/retry-policy.ts';
import { createApiRegistry, type ApiRegistry, type ApiRegistryOptions } from './api-registry.ts';
import { createValueResolver, type ValueResolver } from './resolve-value.ts';
import { RunExecutor, StopRequested, type Evaluate } from './run-executor.ts';
import { REJECTED_AFTER_ACK, RunStore, type AttemptRow, type RunRow, type StepRow } from './run-store.ts';
import { InlineRunWriter, RunSession, ThreadRunWriter, type RunWriter } from './run-writer.ts';
import type { RestartPolicy } from '../platform/threads/supervised-thread.ts';
import { WorkflowError } from './workflow-error.ts';
import type { OutboundHeaderProviders } from './outbound-headers.ts';

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
  /** How the writer thread is restarted when it dies. */
  writerRestart?: Partial<RestartPolicy>;
  /** The writer thread kept dying: the process should exit non-zero. */
  onFatal?: (err: Error) => void;
  plan: Plan;
  resolve?: ValueResolver;
  /** Where `enqueued` wakes the engine and `finished` is announced. */
  events?: RunEvents;
  logger?: Logger;
  /** Runs executing at once, engine-wide. Default 8. */
  concurrency?: number;
  /**
   * At most this many attempts per run, whatever the API's policy says (`hdc test` uses 1); also
   * the attempts for failures that no API's policy covers. Default 5.
   */
  maxAttempts?: number;
  /** For failures no API's policy covers: first backoff (default 30 s), doubling up to retryMaxMs (30 min). */
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
  /** The retry policy of each API, by name. */
  private readonly policies: Map<string, RetryPolicy>;
  /** Headers modules add to each step's requests (trace context); the runtime sets it on attach. */
  outboundHeaders: Pick<OutboundHeaderProviders, 'current'> | undefined;

  constructor(private readonly opts: EngineOptions) {
    this.ownsDb = opts.ownConnection !== false && !opts.db.memory;
    this.db = this.ownsDb ? openEngineConnection(opts.db.name) : opts.db;
    this.store = new RunStore(this.db);
    this.log = opts.logger ?? silentLogger();
    this.writer = (opts.writer ?? (opts.db.memory ? 'inline' : 'thread')) === 'thread'
      ? new ThreadRunWriter(opts.db.name, { log: this.log, ...(opts.writerRestart ? { restart: opts.writerRestart } : {}), ...(opts.onFatal ? { onFatal: opts.onFatal } : {}) })
      : new InlineRunWriter(this.store);
    if (this.writer instanceof ThreadRunWriter) this.writer.thread.on('up', () => this.recoverOrphans());
    this.now = opts.now ?? Date.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.workflows = new Map(opts.plan.workflows.map((w) => [w.name, w]));
    this.policies = new Map(opts.plan.apis.map((a) => [a.name, a.retry]));
    const resolve = opts.resolve ?? createValueResolver();
    this.apis = createApiRegistry(opts.plan, { resolve, transport: opts.transport, auths: opts.auths, client: opts.client });
    const secrets = resolve;
    const transforms = opts.plan.transforms?.length ? TransformRunner.forPlan(opts.plan) : undefined;
    this.executor = new RunExecutor({
      store: this.store,
      apis: this.apis.clients,
      evaluate: opts.evaluate ?? ((expr, vars) => evaluateExpr(expr, { vars, secrets, transforms })),
      now: this.now,
      shouldStop: () => this.stopping,
      outboundHeaders: () => this.outboundHeaders?.current,
    });
  }

  /** False while the engine's writer thread is down (being restarted): /ready says not ready. */
  get writerUp(): boolean {
    return this.writer.up;
  }

  /** The writer thread (tests terminate it to check supervision); undefined when inline. */
  get writerThread(): ThreadRunWriter['thread'] | undefined {
    return this.writer instanceof ThreadRunWriter ? this.writer.thread : undefined;
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

  /**
   * After the writer thread was restarted: runs whose writes died with it stopped executing but are
   * still marked running; they go back to the queue (their attempt counts, as after a crash).
   */
  private recoverOrphans(): void {
    if (!this.running) return;
    let runs = 0;
    for (const id of this.store.runningIds()) if (!this.claimed.has(id)) runs += this.store.recoverRun(id, this.now());
    if (runs) this.log.info({ runs }, 'resuming workflow runs interrupted by the writer thread');
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
    const attempt = (status: AttemptRow['status'], extra: Partial<AttemptRow> = {}): AttemptRow => ({
      run_id: run.id, attempt: run.attempts, started_at: started, finished_at: this.now(), status,
      step_path: null, api: null, http_status: null, error: null, next_attempt_at: null, ...extra,
    });
    try {
      if (!wf) throw new WorkflowError(`workflow ${run.workflow} is not in the loaded plan`, { transient: false });
      const end = await this.executor.execute(run, wf, writes);
      if (end.status === 'rejected') {
        // Someone waiting puts the rejection in the ACK; otherwise the partner was told AA/CA.
        const heard = this.opts.events?.claim(run.id) ?? false;
        if (!heard && this.store.acknowledgedPositively(run.message_id)) {
          const code = end.outcome.code ?? 'AE';
          const error = `${REJECTED_AFTER_ACK} (${code})`;
          await this.settle(run, writes, 'dead', { outcome: end.outcome, error, last: end.last, reason: REJECTED_AFTER_ACK, attempt: attempt('dead', { error }) });
          this.log.error({ runId: run.id, workflow: run.workflow, code }, 'workflow run rejected after the message was acknowledged: dead letter');
        } else {
          await this.settle(run, writes, 'rejected', { outcome: end.outcome, last: end.last, attempt: attempt('rejected') });
        }
      } else await this.settle(run, writes, 'done', { last: end.last, attempt: attempt('done') });
      // One line per run is too many at info on a busy runtime: the periodic traffic line counts them.
      this.log.debug({ runId: run.id, workflow: run.workflow, status: end.status, ms: this.now() - started }, 'workflow run finished');
    } catch (err) {
      if (err instanceof StopRequested) {
        await writes.write({ op: 'release', id: run.id, now: this.now() });
        return;
      }
      const failure = err instanceof WorkflowError ? err : new WorkflowError(`internal error: ${(err as Error)?.message ?? err}`, { transient: true, cause: err });
      const where = { step_path: failure.stepPath ?? null, api: failure.api ?? null, http_status: failure.status ?? null, error: failure.message };
      const policy = this.retryPolicy(failure.api);
      // Attempts since the last replay: a replay gives the run its whole budget again.
      const used = run.attempts - this.store.replayedAtAttempt(run.id);
      if (failure.transient && used < policy.attempts) {
        const wait = nextRetryDelay(policy, used, failure.retryAfterMs, this.opts.random);
        const nextAttemptAt = this.now() + wait;
        await writes.write({ op: 'finish', id: run.id, status: 'failed', now: this.now(), extra: { error: failure.message, nextAttemptAt, attempt: attempt('failed', { ...where, next_attempt_at: nextAttemptAt }) } });
        this.opts.events?.emit('retrying', { runId: run.id, attempt: run.attempts, nextAttemptAt });
        this.log.warn({ runId: run.id, workflow: run.workflow, attempt: run.attempts, retryInMs: wait, error: failure.message }, 'workflow run failed; will retry');
      } else {
        // Out of attempts: the error says so (the attempts' own errors are in the history).
        const error = failure.transient && used > 1 ? `${failure.message} after ${used} attempts` : failure.message;
        await this.settle(run, writes, 'dead', { error, attempt: attempt('dead', where) });
        this.log.error({ runId: run.id, workflow: run.workflow, attempt: run.attempts, error: failure.message }, 'workflow run is a dead letter');
      }
    }
  }

  /** The failing API's policy (or the engine's for other failures), capped by maxAttempts. */
  private retryPolicy(api: string | undefined): Required<RetryPolicy> {
    const o = this.opts;
    const declared = api ? this.policies.get(api) : undefined;
    const policy = {
      attempts: declared?.attempts ?? o.maxAttempts ?? DEFAULT_RETRY.attempts,
      backoffMs: declared?.backoffMs ?? o.retryBaseMs ?? DEFAULT_RETRY.backoffMs,
      maxBackoffMs: declared?.maxBackoffMs ?? o.retryMaxMs ?? DEFAULT_RETRY.maxBackoffMs,
    };
    if (o.maxAttempts !== undefined) policy.attempts = Math.min(policy.attempts, o.maxAttempts);
    return policy;
  }

  private async settle(
    run: RunRow,
    writes: RunSession,
    status: 'done' | 'rejected' | 'dead',
    extra: { outcome?: RunOutcome; error?: string; last?: StepRow; reason?: string; attempt: AttemptRow },
  ): Promise<void> {
    const outcome = extra.outcome;
    await writes.write({ op: 'finish', id: run.id, status, now: this.now(), extra: { outcome, error: extra.error, lastStep: extra.last, attempt: extra.attempt } });
    this.stats.settled++;
    this.opts.events?.emit('finished', { runId: run.id, workflow: run.workflow, status, ...(outcome ? { outcome } : {}), ...(extra.reason ? { reason: extra.reason } : {}) });
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
