// The PostgreSQL store's shared tables for a command that runs beside the runtimes (`hdc users`,
// `hdc bulk`): the store's migrations first (and the module's shared tables the command names), so
// the command works on a database no runtime has opened yet.
import { createPool } from './pg-pool.ts';
import { migratePostgres } from './pg-migrate.ts';
import { PG_MIGRATIONS } from './pg-schema.ts';
import { postgresSql } from './pg-shared-sql.ts';
import { redactUrl } from '../store-choice.ts';
import type { SharedSql } from '../shared-sql.ts';
import { sharedTables, type Migration } from '../../journal/migrations.ts';
import { coreMigrations } from '../../journal/core-migrations.ts';

export async function openSharedSql(url: string, moduleMigrations: readonly Migration[] = []): Promise<{ sql: SharedSql; close(): Promise<void> }> {
  const pool = createPool({ url, max: 2, applicationName: 'hdc cli' });
  try {
    await migratePostgres(pool, [...PG_MIGRATIONS, ...sharedTables([...coreMigrations, ...moduleMigrations])]);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot use the PostgreSQL store ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return { sql: postgresSql(pool), close: () => pool.end() };
}
