// The dashboard's two actions on runs, wherever the queue lives. With SQLite the runtime's own
// engine takes them (its RunStore). With a PostgreSQL store each is one statement on the shared
// queue (atomic without a transaction held across round trips), followed by a NOTIFY that wakes
// every runtime's engine: whichever claims the run executes it, as after `hdc runs replay`.
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';
import type { ModuleServices } from '../seam.ts';
import { RUNS_CHANNEL } from '../../../runtime/store/postgres/pg-journal.ts';

export type ReplayOutcome = { replayed: true } | { replayed: false; status: string } | { replayed: false; missing: true } | { noEngine: true };
export type RerunOutcome = { runId: number } | { refused: string } | { noEngine: true };

/** Queues a dead or failed run again from its last persisted step. */
export async function replayRun(services: ModuleServices, id: number, by: string, now = Date.now()): Promise<ReplayOutcome> {
  if (services.sql.dialect === 'postgres') return replayShared(services.sql, id, by, now);
  const engine = services.engine();
  if (!engine) return { noEngine: true };
  const run = engine.store.run(id);
  if (!run) return { replayed: false, missing: true };
  if (!engine.store.replay(id, now, false, by)) return { replayed: false, status: run.status };
  return { replayed: true };
}

/** A fresh run of a settled run's workflow for the same message (replaying a message). */
export async function rerunRun(services: ModuleServices, id: number, by: string, now = Date.now()): Promise<RerunOutcome> {
  if (services.sql.dialect === 'postgres') return rerunShared(services.sql, id, by, now);
  const engine = services.engine();
  if (!engine) return { noEngine: true };
  return engine.store.rerun(id, now, by);
}

/** Wakes the engines for what was queued: this runtime's, or with PostgreSQL every runtime's (LISTEN in pg-engine.ts). */
export async function wakeEngines(services: ModuleServices): Promise<void> {
  if (services.sql.dialect === 'postgres') await services.sql.run(`SELECT pg_notify('${RUNS_CHANNEL}', '')`);
  else services.engine()?.pump();
}

/** The same as pg-runs.ts replayRunPg: the run locked, requeued if dead or failed, the replay recorded. */
async function replayShared(sql: SharedSql, id: number, by: string, now: number): Promise<ReplayOutcome> {
  const row = await sql.get<{ status: string; replayed: number }>(`WITH r AS (SELECT id, status, attempts FROM workflow_runs WHERE id = $1 FOR UPDATE),
      u AS (UPDATE workflow_runs w SET status = 'queued', next_attempt_at = $2, error = NULL, outcome = NULL, updated_at = $2
            FROM r WHERE w.id = r.id AND r.status IN ('dead','failed') RETURNING w.id, r.attempts),
      i AS (INSERT INTO run_replays (run_id, at, by, after_attempt, from_start) SELECT id, $2, $3, attempts, 0 FROM u ON CONFLICT DO NOTHING)
    SELECT r.status, (SELECT count(*) FROM u) AS replayed FROM r`, [id, now, by]);
  if (!row) return { replayed: false, missing: true };
  return Number(row.replayed) > 0 ? { replayed: true } : { replayed: false, status: row.status };
}

/** The same as RunStore.rerun: a new queued run with the input recorded when the message arrived. */
async function rerunShared(sql: SharedSql, id: number, by: string, now: number): Promise<RerunOutcome> {
  const row = await sql.get<{ status: string; purged: boolean; new_id: number | null }>(`WITH o AS (SELECT * FROM workflow_runs WHERE id = $1 FOR UPDATE),
      n AS (INSERT INTO workflow_runs (message_id, sender, workflow, workflow_hash, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
            SELECT message_id, sender, workflow, workflow_hash, order_key, 'queued', input, 0, $2, $2, $2 FROM o
            WHERE o.status IN ('done','rejected','dead') AND o.input IS NOT NULL RETURNING id),
      i AS (INSERT INTO run_replays (run_id, at, by, after_attempt, from_start) SELECT id, $2, $3, 0, 1 FROM n)
    SELECT o.status, o.input IS NULL AS purged, (SELECT id FROM n) AS new_id FROM o`, [id, now, by]);
  if (!row) return { refused: `there is no run ${id}` };
  if (row.new_id !== null && row.new_id !== undefined) return { runId: Number(row.new_id) };
  if (row.status !== 'done' && row.status !== 'rejected' && row.status !== 'dead') return { refused: `run ${id} is ${row.status}, still in progress` };
  return { refused: `run ${id}'s input was purged by retention` };
}
