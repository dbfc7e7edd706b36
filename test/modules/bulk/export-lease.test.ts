// The export lease on the PostgreSQL store, two runtimes' stores side by side: one holder at a
// time, a lease that ran out goes to the other, and the runtime that lost it commits nothing more
// (its batch is rolled back with its runs). Asking for an export from two places at once makes
// one. The same statements on SQLite, where the runtime takes the lease whoever held it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../runtime/store/pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { createPool } from '../../../runtime/store/postgres/pg-pool.ts';
import { migratePostgres } from '../../../runtime/store/postgres/pg-migrate.ts';
import { PG_MIGRATIONS } from '../../../runtime/store/postgres/pg-schema.ts';
import { postgresSql } from '../../../runtime/store/postgres/pg-shared-sql.ts';
import { postgresModuleRuns } from '../../../runtime/store/postgres/pg-module-runs.ts';
import { sharedTables } from '../../../runtime/journal/migrations.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { sqliteSql, type SharedSql } from '../../../runtime/store/shared-sql.ts';
import { sqliteModuleRuns, type ModuleRuns } from '../../../runtime/workflows/module-runs.ts';
import { migrations as bulkMigrations } from '../../../modules/bulk/bulk-schema.ts';
import { BulkStore, LeaseLost, requestExport } from '../../../modules/bulk/bulk-store.ts';
import type { QueueBatch } from '../../../modules/bulk/queue-writer.ts';

let db: TestDatabase | null = null;
let pool: ReturnType<typeof createPool> | undefined;

test.before(async () => {
  db = await createTestDatabase('bulk_lease');
  if (!db) return;
  pool = createPool({ url: db.url, max: 4 });
  await migratePostgres(pool, [...PG_MIGRATIONS, ...sharedTables([...coreMigrations, ...bulkMigrations])]);
});

test.after(async () => {
  await pool?.end();
  await db?.drop();
});

const batch = (exportId: string, source: number, from: number): QueueBatch => ({
  exportId, idx: 0, source, sender: 'bulk/nightly',
  runs: [1, 2].map((n) => ({ workflow: 'take', input: JSON.stringify({ fields: {}, message: { controlId: `${exportId}/0/${from + n}` } }) })),
  errors: [], lines: from + 2, bytes: (from + 2) * 10, resources: 2, addedBytes: 20,
});

async function startedExport(sql: SharedSql, runs: ModuleRuns): Promise<{ id: string; source: number }> {
  const r = await requestExport(sql, 'nightly', 'test');
  assert.ok('id' in r);
  const id = (r as { id: string }).id;
  await sql.run("INSERT INTO bulk_files (export_id, idx, kind, type, url, status) VALUES ($1, 0, 'output', 'Patient', 'http://x/0', 'pending')", [id]);
  return { id, source: await runs.source('bulk/nightly', id, 'export') };
}

const runsOf = async (sql: SharedSql, source: number) => (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM workflow_runs WHERE message_id = $1', [source]))!.n;

test('one holder at a time; a lease run out goes to the other runtime, and the one that lost it commits nothing', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const sql = postgresSql(pool!);
  const runs = postgresModuleRuns({ pool: pool!, workflowHashes: new Map([['take', 'h-take']]) });
  const a = new BulkStore(sql, runs, 'runtime-a');
  const b = new BulkStore(sql, runs, 'runtime-b');
  const { id, source } = await startedExport(sql, runs);

  assert.ok(await a.claim(id, 60_000));
  assert.not.ok(await b.claim(id, 60_000), 'held by a');
  assert.equal(await a.applyBatch(batch(id, source, 0)).then((ids) => ids.length), 2);
  assert.is((await sql.get<{ workflow_hash: string }>('SELECT workflow_hash FROM workflow_runs WHERE message_id = $1 LIMIT 1', [source]))!.workflow_hash, 'h-take');

  // a stalls past its lease (renewed with a lease that has already run out), b takes the export over.
  assert.ok(await a.renew(id, -1));
  assert.ok(await b.claim(id, 60_000), 'b takes the lease that ran out');
  assert.not.ok(await a.renew(id, 60_000), 'a learns it lost the lease');
  try {
    await a.applyBatch(batch(id, source, 2));
    assert.unreachable('a batch of a runtime without the lease commits');
  } catch (err) {
    assert.instance(err, LeaseLost);
  }
  await a.update(id, { status: 'failed' }).then(() => assert.unreachable('fenced'), (err) => assert.instance(err, LeaseLost));
  assert.is(await runsOf(sql, source), 2, 'nothing queued by the runtime that lost the lease');

  // b continues from the committed progress.
  const file = (await b.files(id))[0]!;
  assert.is(Number(file.lines), 2);
  await b.applyBatch(batch(id, source, 2));
  assert.is(await runsOf(sql, source), 4);
  assert.is(Number((await b.export(id))!.resources), 4);

  // Stopping cleanly gives the lease up: the other takes it at once.
  await b.release(id);
  assert.ok(await a.claim(id, 60_000));
});

test('two runtimes asking for an export of the same block at once make one', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const sql = postgresSql(pool!);
  const at = Date.now();
  const [x, y] = await Promise.all([requestExport(sql, 'daily', 'schedule', at, 60_000), requestExport(sql, 'daily', 'schedule', at, 60_000)]);
  assert.is([x, y].filter((r) => 'id' in r).length, 1);
  // Once it is over, a schedule reaching the same time on another runtime is refused as recent.
  const id = ('id' in x ? x : y as { id: string }).id;
  await sql.run("UPDATE bulk_exports SET status = 'done' WHERE id = $1", [id]);
  const late = await requestExport(sql, 'daily', 'schedule', at + 1000, 60_000);
  assert.ok('recent' in late);
});

test('SQLite: the runtime takes the lease whoever held it; batches and runs commit together', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bulk-lease-'));
  const file = openDatabase(join(dir, 'hdc.sqlite'), { migrations: [...coreMigrations, ...bulkMigrations] });
  try {
    const sql = sqliteSql(file);
    const runs = sqliteModuleRuns(file);
    const before = new BulkStore(sql, runs, 'killed-runtime');
    const now = new BulkStore(sql, runs, 'restarted-runtime');
    const { id, source } = await startedExport(sql, runs);
    assert.ok(await before.claim(id, 60_000, true));
    assert.ok(await now.claim(id, 60_000, true), 'forced: one runtime per database file');
    // Concurrent batches on one connection take turns.
    await Promise.all([now.applyBatch(batch(id, source, 0)), now.applyBatch(batch(id, source, 2))]);
    assert.is(await runsOf(sql, source), 4);
    await before.applyBatch(batch(id, source, 4)).then(() => assert.unreachable('fenced'), (err) => assert.instance(err, LeaseLost));
    assert.is(await runsOf(sql, source), 4);
  } finally {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
