// The workflow engine of a runtime sharing a PostgreSQL store with others. It executes runs as
// the SQLite engine does (RunExecutor: steps persisted one by one, resumed after the last
// persisted step) but takes them from the shared queue (pg-run-store.ts): claims with a lease it
// renews while alive, wakes on the journal's NOTIFY from any runtime (and polls as a safety net),
// and stops executing a run whose lease it lost.
//
// The queue is this project's own claim loop rather than graphile-worker 0.16 or pg-boss 10 (the
// majors that accept Node 20): graphile-worker 0.16 frees the jobs of a killed worker only after a
// fixed 4 hours (its lock reset uses `locked_at < now() - interval '4 hours'`), far above the
// lease a connector needs; pg-boss 10 has no per-key FIFO (its singletonKey policies let a later
// job of a key run while an earlier one waits to retry; strict per-key FIFO came in a later major
// that needs Node 22). Both would also keep a second copy of what workflow_runs holds: per-step
// results, attempts history, dead letters and replay already live there.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Plan, Workflow } from '../../../plan/plan.types.ts';
import { canonicalJson } from '../../../plan/plan-hash.ts';
import type { RunEvents } from '../../journal/run-events.ts';
import type { RunOutcome } from '../../journal/journal-schema.ts';
import { silentLogger, type Logger } from '../../platform/log/logger.ts';
import { evaluate as evaluateExpr } from '../../workflows/expr/evaluate.ts';
import { DEFAULT_RETRY, nextRetryDelay } from '../../workflows/http/retry-policy.ts';
import { createApiRegistry, type ApiRegistry, type ApiRegistryOptions } from '../../workflows/api-registry.ts';
import { createValueResolver, type ValueResolver } from '../../workflows/resolve-value.ts';
import { RunExecutor, StopRequested } from '../../workflows/run-executor.ts';
import type { OutboundHeaderProviders } from '../../workflows/outbound-headers.ts';
import { REJECTED_AFTER_ACK, type AttemptRow, type RunRow, type StepRow } from '../../workflows/run-store.ts';
import { RunSession } from '../../workflows/run-writer.ts';
import { WorkflowError } from '../../workflows/workflow-error.ts';
import type { AuthProvider } from '../../workflows/auth/auth-provider.ts';
import { RUNS_CHANNEL } from './pg-journal.ts';
import { LeaseLost, PgRunStore, PgRunWriter } from './pg-run-store.ts';

/** The hash of a workflow's definition: runs name it, so a rolling upgrade never mixes versions. */
export function workflowHash(w: Workflow): string {
  const { src: _src, ...body } = w as Workflow & { src?: unknown };
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 32);
}

export function workflowHashes(plan: Plan): Map<string, string> {
  return new Map(plan.workflows.map((w) => [w.name, workflowHash(w)]));
}

export interface PgEngineOptions {
  pool: pg.Pool;
  plan: Plan;
  runtimeId: string;
  /** Default 30 s: a killed runtime's runs are claimable by the others this long after its last renewal. */
  leaseMs?: number;
  events?: RunEvents;
  logger?: Logger;
  /** Runs executing at once on this runtime. Default 8. */
  concurrency?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Safety-net poll (NOTIFY wakes the engine at once). Default 1 s. */
  pollMs?: number;
  resolve?: ValueResolver;
  transport?: ApiRegistryOptions['transport'];
  auths?: Map<string, AuthProvider>;
  now?: () => number;
  /** Headers modules add to each step's requests (the runtime's `outboundHeaders`). */
  outboundHeaders?: Pick<OutboundHeaderProviders, 'current'>;
}

export class PgEngine {
  readonly store: PgRunStore;
  private readonly writer: PgRunWriter;
  private readonly workflows: Map<string, Workflow>;
  private readonly hashes: string[];
  private readonly names: string[];
  /** Workflows with a `send` step (they read the message's bytes). */
  private readonly sends: Set<string>;
  private readonly apis: ApiRegistry;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly inflight = new Set<Promise<void>>();
  private active = 0;
  private running = false;
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;
  private timer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private listener?: pg.PoolClient;
  private idleWaiters: (() => void)[] = [];
  private readonly onEnqueued = () => this.pump();
  readonly stats = { active: 0, started: 0, settled: 0, leasesLost: 0 };

  constructor(private readonly opts: PgEngineOptions) {
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.store = new PgRunStore(opts.pool, opts.runtimeId, this.leaseMs);
    this.writer = new PgRunWriter(this.store);
    this.workflows = new Map(opts.plan.workflows.map((w) => [w.name, w]));
    this.hashes = [...workflowHashes(opts.plan).values()];
    this.names = opts.plan.workflows.map((w) => w.name);
    this.sends = new Set(opts.plan.workflows.filter((w) => JSON.stringify(w.steps).includes('"kind":"send"')).map((w) => w.name));
    this.log = opts.logger ?? silentLogger();
    this.now = opts.now ?? Date.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    const resolve = opts.resolve ?? createValueResolver();
    this.apis = createApiRegistry(opts.plan, { resolve, transport: opts.transport, auths: opts.auths });
  }

  get writerUp(): boolean {
    return true;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    // Runs journaled by any runtime wake this one at once.
    this.listener = await this.opts.pool.connect();
    this.listener.on('notification', () => this.pump());
    this.listener.on('error', (err) => this.log.warn({ err: err.message }, 'PostgreSQL notification connection failed; polling only'));
    await this.listener.query(`LISTEN ${RUNS_CHANNEL}`);
    this.opts.events?.on('enqueued', this.onEnqueued);
    // Every third of a lease: renew ours, and put back runs whose runtime stopped renewing theirs.
    this.renewTimer = setInterval(() => void this.keepLeases(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    this.pump();
  }

  private async keepLeases(): Promise<void> {
    try {
      await this.store.renewLeases();
      const back = await this.store.reclaimExpired(this.now());
      if (back.length) {
        this.log.info({ runs: back.length }, 'resuming workflow runs whose runtime stopped renewing its lease');
        this.pump();
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not renew workflow run leases');
    }
  }

  /** Stops claiming; runs in progress stop at their next step boundary and go back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    this.opts.events?.off('enqueued', this.onEnqueued);
    clearTimeout(this.timer);
    clearInterval(this.renewTimer);
    await Promise.allSettled([...this.inflight]);
    if (this.listener) {
      await this.listener.query(`UNLISTEN ${RUNS_CHANNEL}`).catch(() => {});
      this.listener.release();
      this.listener = undefined;
    }
    this.apis.close();
  }

  /** Resolves when this runtime executes nothing and its last claim found nothing ready. */
  idle(): Promise<void> {
    if (this.active === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  pump(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    // Runs that end together (one statement, see PgRunWriter) free their slots in the same turn of
    // the event loop: the claim waits for that turn to end and fills all of them at once.
    void new Promise(setImmediate).then(() => this.fill()).finally(() => {
      this.pumping = false;
      if (this.pumpAgain && this.running) {
        this.pumpAgain = false;
        this.pump();
      } else this.schedule();
      if (this.active === 0 && !this.pumping) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async fill(): Promise<void> {
    try {
      for (;;) {
        const room = this.concurrency - this.active;
        if (room <= 0 || !this.running) return;
        const runs = await this.store.claim(room, this.now(), this.hashes, this.names);
        for (const run of runs) this.launch(run);
        if (runs.length < room) return;
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not claim workflow runs');
    }
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  private launch(run: RunRow): void {
    this.active++;
    this.stats.active = this.active;
    this.stats.started++;
    const p = this.execute(run)
      .catch((err) => this.log.error({ runId: run.id, error: (err as Error)?.message }, 'could not record the end of a workflow run'))
      .finally(() => {
        this.active--;
        this.stats.active = this.active;
        this.inflight.delete(p);
        this.pump();
      });
    this.inflight.add(p);
  }

  private async execute(run: RunRow): Promise<void> {
    const wf = this.workflows.get(run.workflow);
    const started = this.now();
    const writes = new RunSession(this.writer, run.id, started);
    const attempt = (status: AttemptRow['status'], extra: Partial<AttemptRow> = {}): AttemptRow => ({
      run_id: run.id, attempt: run.attempts, started_at: started, finished_at: this.now(), status,
      step_path: null, api: null, http_status: null, error: null, next_attempt_at: null, ...extra,
    });
    let replayedAt = 0;
    try {
      if (!wf) throw new WorkflowError(`workflow ${run.workflow} is not in the loaded plan`, { transient: false });
      const ctx = await this.store.context(run, this.sends.has(wf.name));
      replayedAt = ctx.replayedAtAttempt;
      const executor = new RunExecutor({
        store: { steps: () => ctx.steps, rawMessage: () => ctx.raw },
        apis: this.apis.clients,
        evaluate: (expr, vars) => evaluateExpr(expr, { vars, secrets: this.opts.resolve ?? createValueResolver() }),
        now: this.now,
        shouldStop: () => this.stopping,
        outboundHeaders: () => this.opts.outboundHeaders?.current,
      });
      const end = await executor.execute(run, wf, writes);
      if (end.status === 'rejected') {
        const heard = this.opts.events?.claim(run.id) ?? false;
        if (!heard && await this.store.acknowledgedPositively(run.message_id)) {
          const error = `${REJECTED_AFTER_ACK} (${end.outcome.code ?? 'AE'})`;
          await this.settle(run, writes, 'dead', { outcome: end.outcome, error, last: end.last, reason: REJECTED_AFTER_ACK, attempt: attempt('dead', { error }) });
        } else {
          await this.settle(run, writes, 'rejected', { outcome: end.outcome, last: end.last, attempt: attempt('rejected') });
        }
      } else await this.settle(run, writes, 'done', { last: end.last, attempt: attempt('done') });
    } catch (err) {
      if (err instanceof LeaseLost) {
        this.stats.leasesLost++;
        this.log.warn({ runId: run.id, workflow: run.workflow }, err.message);
        return;
      }
      if (err instanceof StopRequested) {
        await writes.write({ op: 'release', id: run.id, now: this.now() });
        return;
      }
      const failure = err instanceof WorkflowError ? err : new WorkflowError(`internal error: ${(err as Error)?.message ?? err}`, { transient: true, cause: err });
      const where = { step_path: failure.stepPath ?? null, api: failure.api ?? null, http_status: failure.status ?? null, error: failure.message };
      const declared = failure.api ? this.opts.plan.apis.find((a) => a.name === failure.api)?.retry : undefined;
      const o = this.opts;
      const policy = {
        attempts: Math.min(declared?.attempts ?? o.maxAttempts ?? DEFAULT_RETRY.attempts, o.maxAttempts ?? Infinity),
        backoffMs: declared?.backoffMs ?? o.retryBaseMs ?? DEFAULT_RETRY.backoffMs,
        maxBackoffMs: declared?.maxBackoffMs ?? o.retryMaxMs ?? DEFAULT_RETRY.maxBackoffMs,
      };
      const used = run.attempts - replayedAt;
      try {
        if (failure.transient && used < policy.attempts) {
          const nextAttemptAt = this.now() + nextRetryDelay(policy, used, failure.retryAfterMs);
          await writes.write({ op: 'finish', id: run.id, status: 'failed', now: this.now(), extra: { error: failure.message, nextAttemptAt, attempt: attempt('failed', { ...where, next_attempt_at: nextAttemptAt }) } });
          this.opts.events?.emit('retrying', { runId: run.id, attempt: run.attempts, nextAttemptAt });
          this.log.warn({ runId: run.id, workflow: run.workflow, attempt: run.attempts, error: failure.message }, 'workflow run failed; will retry');
        } else {
          const error = failure.transient && used > 1 ? `${failure.message} after ${used} attempts` : failure.message;
          await this.settle(run, writes, 'dead', { error, attempt: attempt('dead', where) });
          this.log.error({ runId: run.id, workflow: run.workflow, attempt: run.attempts, error: failure.message }, 'workflow run is a dead letter');
        }
      } catch (e) {
        if (e instanceof LeaseLost) {
          this.stats.leasesLost++;
          return;
        }
        throw e;
      }
    }
  }

  private async settle(run: RunRow, writes: RunSession, status: 'done' | 'rejected' | 'dead',
    extra: { outcome?: RunOutcome; error?: string; last?: StepRow; reason?: string; attempt: AttemptRow }): Promise<void> {
    await writes.write({ op: 'finish', id: run.id, status, now: this.now(), extra: { outcome: extra.outcome, error: extra.error, lastStep: extra.last, attempt: extra.attempt } });
    this.stats.settled++;
    this.opts.events?.emit('finished', { runId: run.id, workflow: run.workflow, status, ...(extra.outcome ? { outcome: extra.outcome } : {}), ...(extra.reason ? { reason: extra.reason } : {}) });
  }
}
