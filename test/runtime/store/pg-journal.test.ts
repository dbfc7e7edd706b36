// The PostgreSQL journal against a real server: migrations applied once when several runtimes
// start together, group commit across concurrent requests, the resend key enforced by the unique
// constraint when two runtimes (two pools) receive the same message at the same moment, and the
// plan-hash check a runtime makes before joining a cluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { createPool } from '../../../runtime/store/postgres/pg-pool.ts';
import { migratePostgres } from '../../../runtime/store/postgres/pg-migrate.ts';
import { PgJournal } from '../../../runtime/store/postgres/pg-journal.ts';
import { joinCluster, ClusterPlanMismatch } from '../../../runtime/store/postgres/cluster-membership.ts';
import { PG_MIGRATIONS } from '../../../runtime/store/postgres/pg-schema.ts';
import type { JournalEntry } from '../../../runtime/journal/journal-writer.ts';

let db: TestDatabase | null = null;
const pools: pg.Pool[] = [];
const pool = () => {
  const p = createPool({ url: db!.url });
  pools.push(p);
  return p;
};
const hashes = new Map([['w', 'hash-w']]);

test.before(async () => {
  db = await createTestDatabase('journal');
});
test.after(async () => {
  await Promise.allSettled(pools.map((p) => p.end()));
  await db?.drop();
});

function entry(controlId: string, over: Partial<JournalEntry> = {}): JournalEntry {
  return {
    sender: 'lab', controlId, sendingSystem: 'LAB|ACME', contentHash: `h-${controlId}`, onReuse: 'accept', messageType: 'ADT', trigger: 'A01',
    receivedAt: Date.now(), raw: Buffer.from(`MSH|^~\\&|LAB|ACME|||20240101||ADT^A01|${controlId}|P|2.5\r`), charset: 'utf-8', status: 'accepted',
    ack: `MSH|^~\\&|||||||ACK|A-${controlId}|P|2.5\rMSA|AA|${controlId}\r`, runs: [{ workflow: 'w', orderKey: null, input: '{}' }], ...over,
  };
}

test('migrations: three runtimes starting at once apply each migration exactly once', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const results = await Promise.all([migratePostgres(pool()), migratePostgres(pool()), migratePostgres(pool())]);
  const applied = results.flat();
  assert.equal(applied.sort(), PG_MIGRATIONS.map((m) => m.id).sort(), 'each applied by exactly one of them');
  assert.equal(await migratePostgres(pool()), [], 'nothing left on a later start');
});

test('group commit: concurrent records share transactions and every row is there once', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const journal = new PgJournal({ pool: pool(), workflowHashes: hashes });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => journal.record([entry(`G-${i}`)])));
  assert.ok(results.every((r) => r[0]!.kind === 'stored' && r[0]!.runIds.length === 1));
  assert.ok(journal.stats.batches < 200, `batched: ${journal.stats.batches} transactions for 200 messages`);
  const { rows } = await pools[0]!.query<{ n: number; runs: number }>(`SELECT COUNT(*)::int AS n, (SELECT COUNT(*)::int FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id LIKE 'G-%') AS runs FROM messages WHERE control_id LIKE 'G-%'`);
  assert.equal(rows[0], { n: 200, runs: 200 });
  const run = (await pools[0]!.query(`SELECT workflow_hash, status FROM workflow_runs LIMIT 1`)).rows[0];
  assert.equal(run, { workflow_hash: 'hash-w', status: 'queued' });
});

test('a resend received by two runtimes at the same moment is journaled once and answered the same way by both', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const a = new PgJournal({ pool: pool(), workflowHashes: hashes });
  const b = new PgJournal({ pool: pool(), workflowHashes: hashes });
  for (let round = 0; round < 20; round++) {
    const id = `R-${round}`;
    // Each runtime builds its own ACK; whichever commits first, both answer with the stored one.
    const [ra, rb] = await Promise.all([a.record([entry(id, { ack: `ACK-A-${id}` })]), b.record([entry(id, { ack: `ACK-B-${id}` })])]);
    const kinds = [ra[0]!.kind, rb[0]!.kind].sort();
    assert.equal(kinds, ['duplicate', 'stored'], `round ${round}: one stored, one resend`);
    const stored = [ra[0]!, rb[0]!].find((r) => r.kind === 'stored')!;
    const dup = [ra[0]!, rb[0]!].find((r) => r.kind === 'duplicate')! as { ack: string; messageId: number };
    assert.is(dup.messageId, (stored as { messageId: number }).messageId);
    assert.ok(dup.ack === `ACK-A-${id}` || dup.ack === `ACK-B-${id}`);
    const n = (await pools[0]!.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM messages WHERE control_id = $1', [id])).rows[0]!.n;
    assert.is(n, 1);
    const runs = (await pools[0]!.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id = $1', [id])).rows[0]!.n;
    assert.is(runs, 1, 'one run');
  }
});

test('within one batch: a resend resolves to the first; a reused control ID is a new message; reject refuses it', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const j = new PgJournal({ pool: pool(), workflowHashes: hashes });
  const [first, again, reuse] = await j.record([entry('B-1'), entry('B-1'), entry('B-1', { contentHash: 'other' })]);
  assert.is(first!.kind, 'stored');
  assert.is(again!.kind, 'duplicate');
  assert.is(reuse!.kind, 'stored');
  assert.is((reuse as { reuseOf: number | null }).reuseOf, (first as { messageId: number }).messageId);
  const [refused] = await j.record([entry('B-1', { contentHash: 'third', onReuse: 'reject' })]);
  assert.is(refused!.kind, 'reuse-refused');
});

test('two batches with overlapping keys in opposite orders never deadlock', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const a = new PgJournal({ pool: pool(), workflowHashes: hashes });
  const b = new PgJournal({ pool: pool(), workflowHashes: hashes });
  const ids = Array.from({ length: 50 }, (_, i) => `D-${i}`);
  const [ra, rb] = await Promise.all([a.record(ids.map((id) => entry(id))), b.record([...ids].reverse().map((id) => entry(id)))]);
  const stored = [...ra, ...rb].filter((r) => r.kind === 'stored').length;
  assert.is(stored, 50);
});

test('a runtime refuses to join runtimes that run another plan (HDC8300) unless --rolling', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const p = pool();
  const one = await joinCluster(p, { runtimeId: 'one', planHash: 'sha256:aaa', rolling: false, leaseMs: 30_000 });
  const same = await joinCluster(p, { runtimeId: 'two', planHash: 'sha256:aaa', rolling: false, leaseMs: 30_000 });
  try {
    await joinCluster(p, { runtimeId: 'three', planHash: 'sha256:bbb', rolling: false, leaseMs: 30_000 });
    assert.unreachable('joined with another plan');
  } catch (err) {
    assert.instance(err, ClusterPlanMismatch);
    assert.match((err as Error).message, /HDC8300.*sha256:bbb.*sha256:aaa.*--rolling/);
  }
  const rolling = await joinCluster(p, { runtimeId: 'three', planHash: 'sha256:bbb', rolling: true, leaseMs: 30_000 });
  await Promise.all([one.stop(), same.stop(), rolling.stop()]);
  const left = await joinCluster(p, { runtimeId: 'four', planHash: 'sha256:ccc', rolling: false, leaseMs: 30_000 });
  await left.stop();
});

test.run();
