// Opens the PostgreSQL store for one runtime: migrations (once, under an advisory lock), the
// cluster membership check against the plan hash, then the journal (its own pool, commits
// synchronous) and a pool for the workflow engine. The engine's step writes use
// synchronous_commit off, the counterpart of the SQLite engine's synchronous=NORMAL: a runtime
// killed at any point loses nothing committed; only a crash of the database server itself may
// lose the last steps, which at-least-once steps allow. Nothing acknowledged depends on it.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Plan } from '../../../plan/plan.types.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { redactUrl } from '../store-choice.ts';
import { createPool } from './pg-pool.ts';
import { migratePostgres } from './pg-migrate.ts';
import { PG_MIGRATIONS } from './pg-schema.ts';
import { postgresSql } from './pg-shared-sql.ts';
import type { SharedSql } from '../shared-sql.ts';
import { sharedTables, type Migration } from '../../journal/migrations.ts';
import { coreMigrations } from '../../journal/core-migrations.ts';
import { PgJournal } from './pg-journal.ts';
import { joinCluster, type Membership } from './cluster-membership.ts';
import { workflowHashes } from './pg-engine.ts';
import { postgresModuleRuns } from './pg-module-runs.ts';
import type { ModuleRuns } from '../../workflows/module-runs.ts';
import type { RunEvents } from '../../journal/run-events.ts';

export interface PostgresStore {
  runtimeId: string;
  journal: PgJournal;
  enginePool: pg.Pool;
  leaseMs: number;
  /** The shared tables (users, module tables with a PostgreSQL form). */
  sql: SharedSql;
  /** Creates the shared tables among `list` (modules' migrations), once per cluster. */
  migrateShared(list: readonly Migration[]): Promise<string[]>;
  /** Runs modules queue in their own transactions (Bulk FHIR), in the shared queue; `events` wakes this runtime's engine. */
  moduleRuns(events?: RunEvents): ModuleRuns;
  close(): Promise<void>;
}

export interface PostgresStoreOptions {
  url: string;
  rolling?: boolean;
  leaseMs?: number;
  log?: Logger;
  runtimeId?: string;
}

export async function openPostgresStore(plan: Plan, opts: PostgresStoreOptions): Promise<PostgresStore> {
  const runtimeId = opts.runtimeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const journalPool = createPool({ url: opts.url, max: 4, synchronousCommit: 'on', applicationName: `hdc journal ${runtimeId}` });
  const enginePool = createPool({ url: opts.url, max: 12, synchronousCommit: 'off', applicationName: `hdc engine ${runtimeId}` });
  let membership: Membership | undefined;
  try {
    const applied = await migratePostgres(journalPool, [...PG_MIGRATIONS, ...sharedTables(coreMigrations)]);
    if (applied.length) opts.log?.info({ migrations: applied }, 'PostgreSQL store migrated');
    membership = await joinCluster(journalPool, { runtimeId, planHash: plan.hash, rolling: opts.rolling ?? false, leaseMs, workflowHashes: [...workflowHashes(plan).values()] });
  } catch (err) {
    await Promise.allSettled([journalPool.end(), enginePool.end()]);
    const e = err as Error & { code?: string };
    if (e.code === 'HDC8300') throw e;
    throw new Error(`cannot use the PostgreSQL store ${redactUrl(opts.url)}: ${e.message}`);
  }
  const journal = new PgJournal({ pool: journalPool, notifyPool: enginePool, workflowHashes: workflowHashes(plan), runtimeId, ...(opts.log ? { log: opts.log } : {}) });
  opts.log?.info({ store: redactUrl(opts.url), runtimeId, leaseMs }, 'PostgreSQL store open');
  return {
    runtimeId, journal, enginePool, leaseMs,
    sql: postgresSql(enginePool),
    migrateShared: (list) => migratePostgres(journalPool, sharedTables(list)),
    moduleRuns: (events) => postgresModuleRuns({ pool: enginePool, workflowHashes: workflowHashes(plan), ...(events ? { events } : {}) }),
    async close() {
      await journal.close();
      await membership?.stop();
      await Promise.allSettled([journalPool.end(), enginePool.end()]);
    },
  };
}
