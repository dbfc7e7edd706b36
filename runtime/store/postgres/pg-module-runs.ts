// Module runs (runtime/workflows/module-runs.ts) on the PostgreSQL store: a module's transaction
// is one pooled client's, its runs are rows of the shared queue with the workflow definition's
// hash (rolling upgrades: only runtimes whose plan has it claim them), and a NOTIFY after the
// commit wakes every runtime's engine.
import type pg from 'pg';
import type { RunEvents } from '../../journal/run-events.ts';
import { announceRuns, type ModuleRuns } from '../../workflows/module-runs.ts';
import { clientStatements } from './pg-shared-sql.ts';
import { pgTransaction } from './pg-pool.ts';
import { RUNS_CHANNEL } from './pg-journal.ts';

export interface PgModuleRunsOptions {
  pool: pg.Pool;
  /** The definition hash of each workflow of this runtime's plan. */
  workflowHashes: Map<string, string>;
  events?: RunEvents;
}

export function postgresModuleRuns(opts: PgModuleRunsOptions): ModuleRuns {
  const { pool } = opts;
  return {
    dialect: 'postgres',
    async source(sender, key, kind, at = Date.now()) {
      // Two runtimes creating the same source at once: the advisory lock makes the second find the first's row.
      return pgTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`module-source/${sender}/${key}`]);
        const found = await client.query<{ id: number }>("SELECT id FROM messages WHERE sender = $1 AND control_id = $2 AND message_type = 'MODULE'", [sender, key]);
        if (found.rows[0]) return found.rows[0].id;
        return (await client.query<{ id: number }>(
          `INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
           VALUES ($1, $2, '', NULL, 'MODULE', $3, $4, NULL, 'utf-8', 'processed', '') RETURNING id`, [sender, key, kind, at])).rows[0]!.id;
      });
    },
    async transaction(fn) {
      const queued = new Map<number, { sender: string; ids: number[] }>();
      const out = await pgTransaction(pool, (client) => fn({
        ...clientStatements(client),
        async enqueue(source, sender, runs, now = Date.now()) {
          if (!runs.length) return [];
          const rows = (await client.query<{ id: number }>(
            `INSERT INTO workflow_runs (message_id, sender, workflow, workflow_hash, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
             SELECT $1, $2, q.workflow, q.hash, q.order_key, 'queued', q.input, 0, $3, $3, $3
             FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS q(workflow, hash, order_key, input, ord)
             ORDER BY q.ord RETURNING id`,
            [source, sender, now, runs.map((r) => r.workflow), runs.map((r) => opts.workflowHashes.get(r.workflow) ?? ''), runs.map((r) => r.orderKey ?? null), runs.map((r) => r.input)],
          )).rows;
          const ids = rows.map((r) => r.id).sort((a, b) => a - b);
          const q = queued.get(source) ?? { sender, ids: [] };
          q.ids.push(...ids);
          queued.set(source, q);
          return ids;
        },
      }));
      if (queued.size) {
        // After the commit: the engines (this runtime's and the others') claim the new runs.
        announceRuns(opts.events, queued);
        pool.query(`SELECT pg_notify('${RUNS_CHANNEL}', '')`).catch(() => undefined); // the engines poll as well
      }
      return out;
    },
  };
}
