// Applies the PostgreSQL store's migrations once, whatever the number of runtimes starting at the
// same moment: one transaction holding a transaction-level advisory lock, so a second runtime
// waits for the first to commit and then finds nothing left to do. DDL is transactional in
// PostgreSQL: a migration that fails leaves nothing half applied.
import type pg from 'pg';
import { PG_MIGRATIONS, type PgMigration } from './pg-schema.ts';
import { pgTransaction } from './pg-pool.ts';

/** The advisory lock key of migrations (any fixed bigint; "hdc" in ASCII, then 1). */
export const MIGRATION_LOCK = 0x6864630001;

export async function migratePostgres(pool: pg.Pool, list: readonly PgMigration[] = PG_MIGRATIONS): Promise<string[]> {
  return pgTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at bigint NOT NULL)');
    const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of list) {
      if (done.has(m.id)) continue;
      await client.query(m.up);
      await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [m.id, Date.now()]);
      applied.push(m.id);
    }
    return applied;
  });
}
