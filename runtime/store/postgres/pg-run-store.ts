// The workflow queue in PostgreSQL. Runs are claimed with FOR UPDATE SKIP LOCKED (a runtime never
// waits on rows another one is claiming) and carry a lease: the claiming runtime renews it while
// it lives; once a lease ran out (the runtime was killed) the run is claimable again by any other.
// Every write of a run is fenced by its claim (claimed_by, status running): a runtime that lost
// its lease cannot record a step or finish the run, so nothing runs twice past a persisted step.
// Order keys hold across runtimes: a run is claimable only while no earlier run of its workflow
// with the same key is unfinished (queued, running or waiting to retry).
import type pg from 'pg';
import type { RunOutcome, RunStatus } from '../../journal/journal-schema.ts';
import type { AttemptRow, RunRow, StepRow } from '../../workflows/run-store.ts';
import type { RunWriter, WriteOp } from '../../workflows/run-writer.ts';
import { pgTransaction } from './pg-pool.ts';
import { prepared } from './pg-prepared.ts';
import { binaryArray, type Element, type Value } from './pg-binary-array.ts';

/** A write of a run whose lease this runtime no longer holds; the run stops where it is. */
export class LeaseLost extends Error {
  constructor(readonly runId: number) {
    super(`workflow run ${runId}: the claim was lost (lease ran out); another runtime resumes it`);
  }
}

/** Everything an attempt reads before it starts (the executor reads synchronously). */
export interface RunContext {
  steps: StepRow[];
  raw: { raw: Buffer; charset: string } | null;
  replayedAtAttempt: number;
}

const STEP_COLUMNS = 'run_id, path, step_id, kind, status, result, attempt, started_at, finished_at, error';
const stepValues = (s: StepRow) => [s.run_id, s.path, s.step_id, s.kind, s.status, s.result, s.attempt, s.started_at, s.finished_at, s.error];
const UPSERT_STEP = `INSERT INTO run_steps (${STEP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (run_id, path) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
    result = excluded.result, attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, error = excluded.error`;

/** Ready runs claimed by the function of migration pg/006 (its planner settings say why). */
const CLAIM = prepared('hdc_claim', 'SELECT * FROM hdc_claim_runs($1, $2, $3, $4, $5, $6)');

/** A step's row, written only while the run's claim holds (planned at each call, as before). */
const RECORD_STEP = `INSERT INTO run_steps (${STEP_COLUMNS})
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
  WHERE EXISTS (SELECT 1 FROM workflow_runs WHERE id = $1 AND claimed_by = $11 AND status = 'running')
  ON CONFLICT (run_id, path) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
    result = excluded.result, attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, error = excluded.error`;

/** Ends attempts of several runs: the function of migration pg/006 (its planner settings say why). */
const FINISH_RUNS = prepared('hdc_finish_runs', `SELECT id FROM hdc_finish_runs($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
  $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) AS id`);

export interface FinishArgs {
  id: number;
  status: RunStatus;
  now: number;
  extra: { outcome?: RunOutcome; error?: string; nextAttemptAt?: number; lastStep?: StepRow; attempt?: AttemptRow };
}

export class PgRunStore {
  constructor(
    private readonly pool: pg.Pool,
    /** This runtime's id in claimed_by. */
    readonly runtimeId: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Claims up to `limit` ready runs whose workflow definition this runtime knows: queued runs and
   * retries whose time came, oldest first. Rows another runtime is claiming are skipped, not waited on.
   *
   * During a rolling upgrade a run is claimed by a runtime whose plan has its workflow's very
   * definition. Once no live runtime has that definition any more (the last old runtime stopped),
   * a runtime with a workflow of the same name adopts the run, provided it never ran a step (its
   * recorded steps belong to the old definition and stay for an operator to replay).
   */
  async claim(limit: number, now: number, workflowHashes: readonly string[], workflowNames: readonly string[] = []): Promise<RunRow[]> {
    if (limit <= 0) return [];
    const { rows } = await this.pool.query<RunRow>(CLAIM([now, workflowHashes, limit, this.runtimeId, this.leaseMs, workflowNames]));
    return rows.sort((a, b) => a.id - b.id);
  }

  /**
   * Runs whose lease ran out (their runtime was killed or cut off) go back to the queue; the
   * attempt they were in is recorded as interrupted and still counts. Any runtime may do it; the
   * row locks let one of them win. Resolves to the ids put back.
   */
  async reclaimExpired(now: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ run_id: number }>(
      `WITH x AS (
         UPDATE workflow_runs SET status = 'queued', claimed_by = NULL, lease_until = NULL
         WHERE status = 'running' AND lease_until < hdc_now_ms()
         RETURNING id, attempts, updated_at)
       INSERT INTO run_attempts (run_id, attempt, started_at, finished_at, status, error)
       SELECT id, attempts, updated_at, $1, 'interrupted', 'the runtime holding this run stopped renewing its lease' FROM x
       ON CONFLICT DO NOTHING
       RETURNING run_id`,
      [now],
    );
    return rows.map((r) => r.run_id);
  }

  /** Renews the lease of every run this runtime holds (found through the lease index); resolves to their number. */
  async renewLeases(): Promise<number> {
    const r = await this.pool.query(`UPDATE workflow_runs SET lease_until = hdc_now_ms() + $2 WHERE lease_until IS NOT NULL AND claimed_by = $1 AND status = 'running'`, [this.runtimeId, this.leaseMs]);
    return r.rowCount ?? 0;
  }

  /** The earliest time a queued or failed run becomes due (for the engine's timer). */
  async nextDueAt(): Promise<number | null> {
    const r = await this.pool.query<{ due: number | null }>(`SELECT MIN(next_attempt_at) AS due FROM workflow_runs WHERE status IN ('queued','failed')`);
    return r.rows[0]?.due ?? null;
  }

  /**
   * A first attempt has no finished steps and no replay to read; the message's bytes are read only
   * for workflows that `send` them.
   */
  async context(run: RunRow, needsRaw: boolean): Promise<RunContext> {
    const first = run.attempts <= 1;
    const [steps, raw, replay] = await Promise.all([
      first ? null : this.pool.query<StepRow>(`SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = $1 ORDER BY started_at, path`, [run.id]),
      needsRaw ? this.pool.query<{ raw: Buffer | null; charset: string }>('SELECT raw, charset FROM messages WHERE id = $1', [run.message_id]) : null,
      first ? null : this.pool.query<{ n: number | null }>('SELECT MAX(after_attempt) AS n FROM run_replays WHERE run_id = $1', [run.id]),
    ]);
    const m = raw?.rows[0];
    return { steps: steps?.rows ?? [], raw: m?.raw ? { raw: m.raw, charset: m.charset } : null, replayedAtAttempt: replay?.rows[0]?.n ?? 0 };
  }

  async acknowledgedPositively(messageId: number): Promise<boolean> {
    const r = await this.pool.query<{ ack: string }>('SELECT ack FROM messages WHERE id = $1', [messageId]);
    const ack = r.rows[0]?.ack;
    return ack !== undefined && /(?:^|\r)MSA\|(?:AA|CA)(?:\||\r|$)/.test(ack);
  }

  /** One transaction in which the run's claim is checked (and locked) first. */
  private async fenced<T>(runId: number, body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, async (client) => {
      const held = await client.query(`SELECT 1 FROM workflow_runs WHERE id = $1 AND claimed_by = $2 AND status = 'running' FOR UPDATE`, [runId, this.runtimeId]);
      if (held.rowCount !== 1) throw new LeaseLost(runId);
      const out = await body(client);
      return out;
    });
  }

  async recordStep(step: StepRow): Promise<void> {
    // One statement: the step is written only while the claim holds.
    const r = await this.pool.query(RECORD_STEP, [...stepValues(step), this.runtimeId]);
    if (r.rowCount !== 1) throw new LeaseLost(step.run_id);
  }

  /** A `store` step: the record and the step's completion commit together (exactly once). */
  storeRecord(rec: { collection: string; key: string | null; value: unknown; runId: number; now: number }, step: StepRow): Promise<number> {
    return this.fenced(rec.runId, async (c) => {
      const value = JSON.stringify(rec.value ?? null);
      const row = rec.key === null
        ? await c.query<{ id: number }>('INSERT INTO stored_records (collection, key, value, run_id, created_at, updated_at) VALUES ($1, NULL, $2, $3, $4, $4) RETURNING id', [rec.collection, value, rec.runId, rec.now])
        : await c.query<{ id: number }>(
          `INSERT INTO stored_records (collection, key, value, run_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (collection, key) WHERE key IS NOT NULL DO UPDATE SET value = excluded.value, run_id = excluded.run_id, updated_at = excluded.updated_at
           RETURNING id`, [rec.collection, rec.key, value, rec.runId, rec.now]);
      const id = row.rows[0]!.id;
      await c.query(UPSERT_STEP, stepValues({ ...step, result: JSON.stringify({ collection: rec.collection, key: rec.key, recordId: id }) }));
      return id;
    });
  }

  /**
   * Ends attempts of several runs in one statement (one round trip, one commit): each run's status,
   * fenced by its claim, with its last step and its attempt's record written only where the fence
   * held. Resolves to the ids whose claim held; the others lost their lease.
   */
  async finishRuns(list: readonly FinishArgs[]): Promise<Set<number>> {
    const steps = list.filter((f) => f.extra.lastStep).map((f) => f.extra.lastStep!);
    const attempts = list.filter((f) => f.extra.attempt).map((f) => f.extra.attempt!);
    const col = <T, E extends Element>(xs: readonly T[], type: E, f: (x: T) => Value<E>) => binaryArray(type, xs.map(f));
    const { rows } = await this.pool.query<{ id: number }>(FINISH_RUNS([
      col(list, 'int8', (f) => f.id), col(list, 'text', (f) => f.status), col(list, 'text', (f) => (f.extra.outcome ? JSON.stringify(f.extra.outcome) : null)),
      col(list, 'text', (f) => f.extra.error), col(list, 'int8', (f) => f.extra.nextAttemptAt ?? f.now), col(list, 'int8', (f) => f.now), this.runtimeId,
      col(steps, 'int8', (x) => x.run_id), col(steps, 'text', (x) => x.path), col(steps, 'text', (x) => x.step_id), col(steps, 'text', (x) => x.kind),
      col(steps, 'text', (x) => x.status), col(steps, 'text', (x) => x.result), col(steps, 'int4', (x) => x.attempt), col(steps, 'int8', (x) => x.started_at),
      col(steps, 'int8', (x) => x.finished_at), col(steps, 'text', (x) => x.error),
      col(attempts, 'int8', (x) => x.run_id), col(attempts, 'int4', (x) => x.attempt), col(attempts, 'int8', (x) => x.started_at),
      col(attempts, 'int8', (x) => x.finished_at), col(attempts, 'text', (x) => x.status), col(attempts, 'text', (x) => x.step_path),
      col(attempts, 'text', (x) => x.api), col(attempts, 'int4', (x) => x.http_status), col(attempts, 'text', (x) => x.error),
      col(attempts, 'int8', (x) => x.next_attempt_at),
    ]));
    return new Set(rows.map((r) => r.id));
  }

  /** A run stopped at a step boundary (runtime shutting down): queued again, the attempt not counted. */
  async releaseRun(id: number, now: number): Promise<void> {
    await this.pool.query(
      `UPDATE workflow_runs SET status = 'queued', attempts = GREATEST(attempts - 1, 0), claimed_by = NULL, lease_until = NULL, updated_at = $3
       WHERE id = $1 AND claimed_by = $2 AND status = 'running'`, [id, this.runtimeId, now]);
  }
}

/**
 * The engine's RunWriter over PostgreSQL (claims are taken up front, so a write's `claim` is
 * already done). Runs ending in the same turn of the event loop end in one statement.
 */
export class PgRunWriter implements RunWriter {
  readonly up = true;
  private pending: { args: FinishArgs; resolve: () => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly store: PgRunStore) {}

  write(w: WriteOp): Promise<unknown> {
    const p = this.apply(w);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  private apply(w: WriteOp): Promise<unknown> {
    switch (w.op) {
      case 'claim': return Promise.resolve(true);
      case 'step': return this.store.recordStep(w.row);
      case 'store': return this.store.storeRecord(w.rec, w.row);
      case 'finish': return this.finish({ id: w.id, status: w.status, now: w.now, extra: w.extra });
      case 'release': return this.store.releaseRun(w.id, w.now);
    }
  }

  private finish(args: FinishArgs): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ args, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.pending.splice(0);
        this.store.finishRuns(batch.map((b) => b.args)).then(
          (held) => { for (const b of batch) held.has(b.args.id) ? b.resolve() : b.reject(new LeaseLost(b.args.id)); },
          (err: Error) => { for (const b of batch) b.reject(err); },
        );
      });
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }
}
