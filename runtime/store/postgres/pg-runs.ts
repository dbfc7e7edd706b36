// `hdc runs --store URL` on the PostgreSQL store: the same list and dead-letter count as with
// SQLite (the same queries, placeholders numbered), and replay of a dead or failed run, recorded
// with who asked; a NOTIFY wakes the runtimes at once.
import type pg from 'pg';
import { deadLettersQuery, listRunsQuery, runReportOf, summary, type DeadLetterCounts, type RunFilter, type RunReport, type RunSummary, type RunWithMessage } from '../../workflows/run-report.ts';
import { numbered } from '../shared-sql.ts';
import { postgresSql } from './pg-shared-sql.ts';
import { RUNS_CHANNEL } from './pg-journal.ts';
import { pgTransaction } from './pg-pool.ts';


export async function listRunsPg(pool: pg.Pool, f: RunFilter = {}): Promise<RunSummary[]> {
  const q = listRunsQuery(f);
  return (await pool.query<RunWithMessage>(numbered(q.sql), q.args)).rows.map(summary);
}

export async function countDeadLettersPg(pool: pg.Pool, f: RunFilter = {}): Promise<DeadLetterCounts> {
  const q = deadLettersQuery(f);
  return (await pool.query<DeadLetterCounts>(numbered(q.sql), q.args)).rows[0]!;
}

/** `hdc runs show` on the shared store: the same report as from SQLite. */
export function showRunPg(pool: pg.Pool, id: number, opts: { phi?: boolean } = {}): Promise<RunReport | undefined> {
  return runReportOf(postgresSql(pool), id, opts);
}

/** 'replayed', or why not: the run is missing or neither dead nor failed. */
export async function replayRunPg(pool: pg.Pool, id: number, opts: { now?: number; fromStart?: boolean; by: string }): Promise<'replayed' | 'missing' | string> {
  const now = opts.now ?? Date.now();
  return pgTransaction(pool, async (client) => {
    const run = (await client.query<{ status: string; attempts: number }>('SELECT status, attempts FROM workflow_runs WHERE id = $1 FOR UPDATE', [id])).rows[0];
    if (!run) return 'missing';
    if (run.status !== 'dead' && run.status !== 'failed') return run.status;
    if (opts.fromStart) await client.query('DELETE FROM run_steps WHERE run_id = $1', [id]);
    await client.query(`UPDATE workflow_runs SET status = 'queued', next_attempt_at = $2, error = NULL, outcome = NULL, updated_at = $2 WHERE id = $1`, [id, now]);
    await client.query('INSERT INTO run_replays (run_id, at, by, after_attempt, from_start) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [id, now, opts.by, run.attempts, opts.fromStart ? 1 : 0]);
    await client.query(`SELECT pg_notify('${RUNS_CHANNEL}', '')`);
    return 'replayed';
  });
}
