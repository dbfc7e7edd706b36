// SQL for the engine: claiming queued runs, recording step results, finishing runs, and the
// `store` collections. Synchronous (better-sqlite3); every write is its own transaction so a
// step's result is on disk before the next step starts.
import type { Database, Statement } from 'better-sqlite3';
import type { RunInput, RunOutcome, RunStatus } from '../journal/journal-schema.ts';

export interface RunRow {
  id: number;
  message_id: number;
  sender: string;
  workflow: string;
  order_key: string | null;
  status: RunStatus;
  input: string | null;
  attempts: number;
  next_attempt_at: number;
  outcome: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface StepRow {
  run_id: number;
  path: string;
  step_id: string;
  kind: string;
  status: 'done' | 'failed';
  result: string | null;
  attempt: number;
  started_at: number;
  finished_at: number;
  error: string | null;
}

/** The dead-letter reason for a workflow that rejected (AE/AR) a message already acknowledged positively. */
export const REJECTED_AFTER_ACK = 'rejected after acknowledgement';

/** One attempt of a run as it ended (see engine-schema.ts, run_attempts). */
export interface AttemptRow {
  run_id: number;
  attempt: number;
  started_at: number;
  finished_at: number;
  status: 'done' | 'rejected' | 'failed' | 'dead' | 'interrupted';
  step_path: string | null;
  api: string | null;
  http_status: number | null;
  error: string | null;
  next_attempt_at: number | null;
}

export interface ReplayRow {
  run_id: number;
  at: number;
  by: string;
  after_attempt: number;
  from_start: number;
}

export interface StoredRecord {
  id: number;
  collection: string;
  key: string | null;
  value: unknown;
  runId: number | null;
  createdAt: number;
  updatedAt: number;
}

export class RunStore {
  private readonly candidates: Statement<[number, number, number]>;
  private readonly dueRetries: Statement<[number, number, number]>;
  private readonly nextRetry: Statement<[]>;
  private readonly claim: Statement;
  private readonly stepsOf: Statement<[number]>;
  private readonly putStep: Statement;
  private readonly finish: Statement;
  private readonly requeue: Statement;
  private readonly upsertKeyed: Statement;
  private readonly insertRecord: Statement;
  private readonly recover: Statement;
  private readonly recoverOne: Statement;
  private readonly runningStmt: Statement;
  private readonly release: Statement;
  private readonly nextDue: Statement<[]>;
  private readonly messageRaw: Statement<[number]>;
  private readonly putAttempt: Statement;
  private readonly markInterrupted: Statement<[number]>;
  private readonly putReplay: Statement;
  private readonly lastReplay: Statement<[number]>;
  private readonly messageAck: Statement<[number]>;
  private readonly finishWithStep: (step: StepRow | undefined, args: readonly unknown[], attempt?: AttemptRow) => void;
  private readonly storeTx: (rec: { collection: string; key: string | null; value: string; runId: number; now: number }, step: StepRow) => number;

  constructor(readonly db: Database) {
    // Ready runs whose order key has no earlier unfinished run of the same workflow: runs waiting
    // to retry whose time has come (oldest due first), then queued runs in journal order.
    const notBlocked = `(r.order_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM workflow_runs p
          WHERE p.workflow = r.workflow AND p.order_key = r.order_key AND p.id < r.id
            AND p.status IN ('queued','running','failed')))`;
    this.dueRetries = db.prepare(`SELECT * FROM workflow_runs r
      WHERE r.status = 'failed' AND r.next_attempt_at <= ? AND ${notBlocked}
      ORDER BY r.next_attempt_at, r.id LIMIT ? OFFSET ?`);
    this.candidates = db.prepare(`SELECT * FROM workflow_runs r INDEXED BY engine_runs_status_id
      WHERE r.status = 'queued' AND r.next_attempt_at <= ? AND ${notBlocked}
      ORDER BY r.id LIMIT ? OFFSET ?`);
    this.claim = db.prepare(`UPDATE workflow_runs SET status = 'running', attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND status IN ('queued','failed')`);
    this.stepsOf = db.prepare('SELECT * FROM run_steps WHERE run_id = ? ORDER BY started_at, path');
    this.putStep = db.prepare(`INSERT OR REPLACE INTO run_steps
      (run_id, path, step_id, kind, status, result, attempt, started_at, finished_at, error)
      VALUES (@run_id, @path, @step_id, @kind, @status, @result, @attempt, @started_at, @finished_at, @error)`);
    this.finish = db.prepare(`UPDATE workflow_runs SET status = ?, outcome = ?, error = ?, next_attempt_at = ?, updated_at = ?
      WHERE id = ?`);
    this.requeue = db.prepare(`UPDATE workflow_runs SET status = 'queued', attempts = ?, next_attempt_at = ?, error = NULL, outcome = NULL, updated_at = ?
      WHERE id = ? AND status IN ('dead','failed')`);
    this.upsertKeyed = db.prepare(`INSERT INTO stored_records (collection, key, value, run_id, created_at, updated_at)
      VALUES (@collection, @key, @value, @runId, @now, @now)
      ON CONFLICT (collection, key) WHERE key IS NOT NULL
      DO UPDATE SET value = excluded.value, run_id = excluded.run_id, updated_at = excluded.updated_at
      RETURNING id`);
    this.insertRecord = db.prepare(`INSERT INTO stored_records (collection, key, value, run_id, created_at, updated_at)
      VALUES (@collection, NULL, @value, @runId, @now, @now) RETURNING id`);
    this.recover = db.prepare(`UPDATE workflow_runs SET status = 'queued', updated_at = ?
      WHERE status = 'running'`);
    this.recoverOne = db.prepare(`UPDATE workflow_runs SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'running'`);
    this.runningStmt = db.prepare(`SELECT id FROM workflow_runs WHERE status = 'running'`);
    this.release = db.prepare(`UPDATE workflow_runs SET status = 'queued', attempts = MAX(attempts - 1, 0), updated_at = ? WHERE id = ?`);
    this.nextDue = db.prepare(`SELECT MIN(next_attempt_at) AS due FROM workflow_runs WHERE status = 'queued'`);
    this.nextRetry = db.prepare(`SELECT MIN(next_attempt_at) AS due FROM workflow_runs WHERE status = 'failed'`);
    this.messageRaw = db.prepare('SELECT raw, charset FROM messages WHERE id = ?');
    this.putAttempt = db.prepare(`INSERT OR REPLACE INTO run_attempts
      (run_id, attempt, started_at, finished_at, status, step_path, api, http_status, error, next_attempt_at)
      VALUES (@run_id, @attempt, @started_at, @finished_at, @status, @step_path, @api, @http_status, @error, @next_attempt_at)`);
    // An attempt cut short by a crash: it started when the run was last claimed (updated_at).
    this.markInterrupted = db.prepare(`INSERT OR REPLACE INTO run_attempts
      (run_id, attempt, started_at, finished_at, status, step_path, api, http_status, error, next_attempt_at)
      SELECT id, attempts, updated_at, ?, 'interrupted', NULL, NULL, NULL, 'the process stopped during this attempt', NULL
      FROM workflow_runs WHERE status = 'running'`);
    this.putReplay = db.prepare(`INSERT OR REPLACE INTO run_replays (run_id, at, by, after_attempt, from_start) VALUES (?, ?, ?, ?, ?)`);
    this.lastReplay = db.prepare('SELECT MAX(after_attempt) AS n FROM run_replays WHERE run_id = ?');
    this.messageAck = db.prepare('SELECT ack FROM messages WHERE id = ?');
    this.finishWithStep = db.transaction((step: StepRow | undefined, args: readonly unknown[], attempt?: AttemptRow) => {
      if (step) this.putStep.run(step);
      this.finish.run(...args);
      if (attempt) this.putAttempt.run(attempt);
    });
    this.storeTx = db.transaction((rec, step) => {
      const row = (rec.key === null ? this.insertRecord.get(rec) : this.upsertKeyed.get(rec)) as { id: number };
      step.result = JSON.stringify({ collection: rec.collection, key: rec.key, recordId: row.id });
      this.putStep.run(step);
      return row.id;
    });
  }

  /**
   * Runs left `running` by a process that died go back to the queue. The interrupted attempt still
   * counts, so a run that keeps killing the process ends up dead instead of looping.
   */
  recoverInterrupted(now: number): number {
    return this.db.transaction(() => {
      this.markInterrupted.run(now);
      return this.recover.run(now).changes;
    })();
  }

  /** Ids of the runs marked running. */
  runningIds(): number[] {
    return this.runningStmt.pluck().all() as number[];
  }

  /** One run left `running` by a writer thread that died goes back to the queue (its attempt counts). */
  recoverRun(id: number, now: number): number {
    return this.recoverOne.run(now, id).changes;
  }

  /** A page of runs ready now: due retries first, then queued runs in journal order. */
  readyRuns(now: number, limit: number, offset = 0): RunRow[] {
    const retries = this.dueRetries.all(now, limit + offset, 0) as RunRow[];
    if (retries.length > offset) {
      const page = retries.slice(offset, offset + limit);
      if (page.length === limit) return page;
      return page.concat(this.candidates.all(now, limit - page.length, 0) as RunRow[]);
    }
    return this.candidates.all(now, limit, offset - retries.length) as RunRow[];
  }

  /** Marks a run running; false when another worker got it first. */
  claimRun(id: number, now: number): boolean {
    return this.claim.run(now, id).changes === 1;
  }

  nextDueAt(): number | null {
    const a = (this.nextDue.get() as { due: number | null }).due;
    const b = (this.nextRetry.get() as { due: number | null }).due;
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  steps(runId: number): StepRow[] {
    return this.stepsOf.all(runId) as StepRow[];
  }

  recordStep(step: StepRow): void {
    this.putStep.run(step);
  }

  /** A `store` step: the record and the step's completion commit together (exactly once). */
  storeRecord(rec: { collection: string; key: string | null; value: unknown; runId: number; now: number }, step: StepRow): number {
    return this.storeTx({ ...rec, value: JSON.stringify(rec.value ?? null) }, step);
  }

  /**
   * Sets the run's status; the last step's row and the attempt's record, when given, commit in the
   * same transaction.
   */
  finishRun(
    id: number,
    status: RunStatus,
    now: number,
    extra: { outcome?: RunOutcome; error?: string; nextAttemptAt?: number; lastStep?: StepRow; attempt?: AttemptRow } = {},
  ): void {
    const args = [status, extra.outcome ? JSON.stringify(extra.outcome) : null, extra.error ?? null, extra.nextAttemptAt ?? now, now, id] as const;
    if (extra.lastStep || extra.attempt) this.finishWithStep(extra.lastStep, args, extra.attempt);
    else this.finish.run(...args);
  }

  /** The attempt count when the run was last replayed (0 if never): retry budgets start there. */
  replayedAtAttempt(id: number): number {
    return (this.lastReplay.get(id) as { n: number | null }).n ?? 0;
  }

  /** Whether the message behind a run was answered with a positive ACK (AA or CA) so far. */
  acknowledgedPositively(messageId: number): boolean {
    const row = this.messageAck.get(messageId) as { ack: string } | undefined;
    return row !== undefined && /(?:^|\r)MSA\|(?:AA|CA)(?:\||\r|$)/.test(row.ack);
  }

  attempts(runId: number): AttemptRow[] {
    return this.db.prepare('SELECT * FROM run_attempts WHERE run_id = ? ORDER BY attempt, finished_at').all(runId) as AttemptRow[];
  }

  replays(runId: number): ReplayRow[] {
    return this.db.prepare('SELECT * FROM run_replays WHERE run_id = ? ORDER BY at').all(runId) as ReplayRow[];
  }

  /** A run stopped at a step boundary (engine shutting down): queued again, the attempt not counted. */
  releaseRun(id: number, now: number): void {
    this.release.run(now, id);
  }

  /**
   * Puts a dead (or failed) run back in the queue; completed steps stay completed. The attempt
   * count goes on (the history keeps every attempt), the retry budget starts afresh, and who
   * asked is recorded.
   */
  replay(id: number, now: number, fromStart = false, by = 'unknown'): boolean {
    const run = this.run(id);
    if (!run || (run.status !== 'dead' && run.status !== 'failed')) return false;
    this.db.transaction(() => {
      if (fromStart) this.db.prepare('DELETE FROM run_steps WHERE run_id = ?').run(id);
      this.requeue.run(run.attempts, now, now, id);
      this.putReplay.run(id, now, by, run.attempts, fromStart ? 1 : 0);
    })();
    return true;
  }

  /**
   * A fresh run of a settled run's workflow for the same message, from the first step, with the
   * input recorded when the message arrived (replaying a message through its workflow). The new
   * run's history records who asked. Why not, when it cannot: the run is missing, still in
   * progress, or its input was purged by retention.
   */
  rerun(id: number, now: number, by = 'unknown'): { runId: number } | { refused: string } {
    const run = this.run(id);
    if (!run) return { refused: `there is no run ${id}` };
    if (run.status !== 'done' && run.status !== 'rejected' && run.status !== 'dead') return { refused: `run ${id} is ${run.status}, still in progress` };
    if (run.input === null) return { refused: `run ${id}'s input was purged by retention` };
    const runId = this.db.transaction(() => {
      const created = this.db.prepare(`INSERT INTO workflow_runs (message_id, sender, workflow, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)`).run(run.message_id, run.sender, run.workflow, run.order_key, run.input, now, now, now);
      const newId = Number(created.lastInsertRowid);
      this.putReplay.run(newId, now, by, 0, 1);
      return newId;
    })();
    return { runId };
  }

  run(id: number): RunRow | undefined {
    return this.db.prepare('SELECT * FROM workflow_runs WHERE id = ?').get(id) as RunRow | undefined;
  }

  /** The message's bytes as received (for `send message`), or null once purged by retention. */
  rawMessage(messageId: number): { raw: Buffer; charset: string } | null {
    const row = this.messageRaw.get(messageId) as { raw: Buffer | null; charset: string } | undefined;
    return row?.raw ? { raw: row.raw, charset: row.charset } : null;
  }

  records(collection: string): StoredRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM stored_records WHERE collection = ? ORDER BY id')
      .all(collection) as Array<{ id: number; collection: string; key: string | null; value: string; run_id: number | null; created_at: number; updated_at: number }>;
    return rows.map((r) => ({
      id: r.id,
      collection: r.collection,
      key: r.key,
      value: JSON.parse(r.value),
      runId: r.run_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }
}

export function parseInput(run: RunRow): RunInput {
  if (!run.input) return { fields: {}, message: { type: '', trigger: '', controlId: '', version: '', receivedAt: run.created_at, sender: run.sender } };
  return JSON.parse(run.input) as RunInput;
}
