// The PostgreSQL engine in process, against a real server and a loopback API: a transient failure
// retries with backoff and resumes, a permanent one becomes a dead letter, an order key holds its
// later runs back while an earlier one waits to retry (and within one claim of several runs), and
// a runtime that lost its lease can neither record a step nor finish the run (the runtime that
// took it over finishes it once).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type ServerResponse } from 'node:http';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { createPool } from '../../../runtime/store/postgres/pg-pool.ts';
import { migratePostgres } from '../../../runtime/store/postgres/pg-migrate.ts';
import { PgJournal } from '../../../runtime/store/postgres/pg-journal.ts';
import { PgEngine, workflowHashes } from '../../../runtime/store/postgres/pg-engine.ts';
import { LeaseLost, PgRunStore } from '../../../runtime/store/postgres/pg-run-store.ts';
import { api, plan, ref, src, workflow } from '../workflows/fixtures.ts';
import type { JournalEntry } from '../../../runtime/journal/journal-writer.ts';
import type { Plan } from '../../../plan/plan.types.ts';

let db: TestDatabase | null = null;
let pool: pg.Pool;
let journal: PgJournal;
const engines: PgEngine[] = [];
/** Per control ID: the answers still to give (status codes), then 200. */
const script = new Map<string, number[]>();
const calls: string[] = [];
const server = createServer((req, res: ServerResponse) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const { cid } = JSON.parse(body) as { cid: string };
    calls.push(cid);
    const status = script.get(cid)?.shift() ?? 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});

let thePlan: Plan;
test.before(async () => {
  db = await createTestDatabase('engine');
  if (!db) return;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  thePlan = plan({
    apis: [api('partner', 'rest', base, { retry: { attempts: 3, backoffMs: 30, maxBackoffMs: 60 } })],
    workflows: [workflow('w', [
      { id: 'tell', kind: 'rest', api: 'partner', method: 'POST', urlPath: { lit: '/t' }, body: { object: [{ key: 'cid', value: ref('message', 'controlId') }] }, src: src(3) },
      { id: 'keep', kind: 'store', collection: 'kept', key: ref('message', 'controlId'), value: ref('message', 'controlId'), src: src(4) },
    ], { orderBy: ref('key') })],
  });
  pool = createPool({ url: db.url, synchronousCommit: 'off', max: 6 });
  await migratePostgres(pool);
  journal = new PgJournal({ pool, workflowHashes: workflowHashes(thePlan) });
});
test.after(async () => {
  await Promise.allSettled(engines.map((e) => e.stop()));
  await pool?.end();
  await new Promise((r) => server.close(r));
  await db?.drop();
});

function engine(runtimeId: string, leaseMs = 30_000): PgEngine {
  const e = new PgEngine({ pool, plan: thePlan, runtimeId, leaseMs, pollMs: 50, retryBaseMs: 30 });
  engines.push(e);
  return e;
}

async function enqueue(cid: string, key: string | null = null): Promise<number> {
  const input = JSON.stringify({ fields: { key }, message: { type: 'ADT', trigger: 'A01', controlId: cid, version: '2.5', receivedAt: Date.now(), sender: 'lab' } });
  const e: JournalEntry = {
    sender: 'lab', controlId: cid, sendingSystem: 'A|B', contentHash: `h-${cid}`, onReuse: 'accept', messageType: 'ADT', trigger: 'A01',
    receivedAt: Date.now(), raw: Buffer.from('MSH|^~\\&|A|B\r'), charset: 'utf-8', status: 'accepted', ack: 'MSA|AA|' + cid, runs: [{ workflow: 'w', orderKey: key, input }],
  };
  const [r] = await journal.record([e]);
  return (r as { runIds: number[] }).runIds[0]!;
}

const runOf = async (id: number) => (await pool.query<{ status: string; attempts: number; error: string | null }>('SELECT status, attempts, error FROM workflow_runs WHERE id = $1', [id])).rows[0]!;
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) {
      const rows = (await pool.query('SELECT r.id, r.status, r.attempts, r.error, r.next_attempt_at, r.claimed_by FROM workflow_runs r ORDER BY id')).rows;
      const att = (await pool.query('SELECT run_id, attempt, status, error FROM run_attempts ORDER BY run_id, attempt')).rows;
      throw new Error(`timed out waiting: ${JSON.stringify(rows)} ${JSON.stringify(att)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a transient failure retries with backoff; a permanent one is a dead letter; attempts are recorded', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const e = engine('rt-a');
  script.set('T-1', [429, 429]);
  script.set('T-2', [400]);
  const ok = await enqueue('T-1');
  const bad = await enqueue('T-2');
  await e.start();
  await until(async () => (await runOf(ok)).status === 'done' && (await runOf(bad)).status === 'dead');
  assert.is((await runOf(ok)).attempts, 3);
  const history = (await pool.query<{ attempt: number; status: string }>('SELECT attempt, status FROM run_attempts WHERE run_id = $1 ORDER BY attempt', [ok])).rows;
  assert.equal(history.map((h) => h.status), ['failed', 'failed', 'done']);
  assert.match((await runOf(bad)).error ?? '', /400/);
  const kept = (await pool.query('SELECT 1 FROM stored_records WHERE key = $1', ['T-1'])).rowCount;
  assert.is(kept, 1, 'the store step ran once');
  await e.stop();
});

test('an order key holds later runs back while an earlier one waits to retry', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const e = engine('rt-b');
  script.set('O-1', [429]);
  const first = await enqueue('O-1', 'K');
  const second = await enqueue('O-2', 'K');
  const other = await enqueue('O-3', 'L');
  calls.length = 0;
  await e.start();
  await until(async () => (await runOf(second)).status === 'done' && (await runOf(other)).status === 'done');
  assert.is((await runOf(first)).status, 'done');
  const order = calls.filter((c) => c === 'O-1' || c === 'O-2');
  assert.equal(order, ['O-1', 'O-1', 'O-2'], 'O-2 only after O-1 succeeded on its retry');
  await e.stop();
});

test('a runtime whose lease ran out can neither record a step nor finish; the run is done once', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const id = await enqueue('L-1');
  const a = new PgRunStore(pool, 'rt-dead', 30_000);
  const [claimed] = await a.claim(1, Date.now(), [...workflowHashes(thePlan).values()]);
  assert.is(claimed!.id, id);
  // rt-dead stops renewing: its lease runs out; another runtime's reclaim puts the run back.
  await pool.query('UPDATE workflow_runs SET lease_until = 0 WHERE id = $1', [id]);
  const b = engine('rt-live', 30_000);
  assert.equal(await b.store.reclaimExpired(Date.now()), [id]);
  await b.start();
  await until(async () => (await runOf(id)).status === 'done');
  const step = { run_id: id, path: '0', step_id: 'tell', kind: 'rest', status: 'done' as const, result: null, attempt: 1, started_at: 1, finished_at: 2, error: null };
  try {
    await a.recordStep(step);
    assert.unreachable('a step written without the claim');
  } catch (err) {
    assert.instance(err, LeaseLost);
  }
  const held = await a.finishRuns([{ id, status: 'dead', now: Date.now(), extra: { error: 'late' } }]);
  assert.is(held.size, 0, 'the late finish is refused');
  assert.is((await runOf(id)).status, 'done');
  const done = (await pool.query('SELECT 1 FROM run_attempts WHERE run_id = $1 AND status = $2', [id, 'done'])).rowCount;
  assert.is(done, 1);
  const interrupted = (await pool.query('SELECT 1 FROM run_attempts WHERE run_id = $1 AND status = $2', [id, 'interrupted'])).rowCount;
  assert.is(interrupted, 1, 'the interrupted attempt is in the history');
  await b.stop();
});

test('one claim takes several ready runs in journal order; of runs sharing an order key only the earliest', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const a1 = await enqueue('B-1', 'A');
  const a2 = await enqueue('B-2', 'A');
  const n1 = await enqueue('B-3');
  const b1 = await enqueue('B-4', 'B');
  const b2 = await enqueue('B-5', 'B');
  const n2 = await enqueue('B-6');
  const store = new PgRunStore(pool, 'rt-batch', 30_000);
  const hashes = [...workflowHashes(thePlan).values()];
  const finish = (runs: { id: number }[]) => store.finishRuns(runs.map((r) => ({ id: r.id, status: 'done' as const, now: Date.now(), extra: {} })));
  const limited = await store.claim(2, Date.now(), hashes);
  assert.equal(limited.map((r) => r.id), [a1, n1], 'the limit stops the claim, oldest first');
  const rest = await store.claim(10, Date.now(), hashes);
  assert.equal(rest.map((r) => r.id), [b1, n2], 'A-2 waits for A-1, B-2 for B-1');
  assert.equal(await store.claim(10, Date.now(), hashes), []);
  await finish([...limited, ...rest]);
  const later = await store.claim(10, Date.now(), hashes);
  assert.equal(later.map((r) => r.id), [a2, b2], 'each key\'s next run once the earlier one is done');
  await finish(later);
});

test('hdc runs --store lists the dead letters and replays one; a runtime runs it again', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const hdc = (...args: string[]) => spawnSync(process.execPath, [new URL('../../../bin/hdc.js', import.meta.url).pathname, 'runs', ...args, '--store', db!.url],
    { encoding: 'utf8', env: { ...process.env, HDC_DEV: '1' } });
  const listed = hdc('--status', 'dead', '--json');
  assert.is(listed.status, 0, listed.stderr);
  const dead = JSON.parse(listed.stdout) as { id: number; controlId: string; status: string }[];
  const t2 = dead.find((r) => r.controlId === 'T-2');
  assert.ok(t2, 'the dead letter is listed with its control ID');
  const table = hdc();
  assert.match(table.stdout, /dead letter/i);
  const replay = hdc('replay', String(t2!.id), '--by', 'tester');
  assert.is(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, /queued again, replayed by tester/);
  assert.is((await runOf(t2!.id)).status, 'queued');
  assert.is(hdc('replay', String(t2!.id)).status, 1, 'a queued run is not replayed');
  const e = engine('rt-c');
  await e.start();
  await until(async () => (await runOf(t2!.id)).status === 'done');
  const by = (await pool.query<{ by: string }>('SELECT by FROM run_replays WHERE run_id = $1', [t2!.id])).rows[0]!.by;
  assert.is(by, 'tester');
  await e.stop();
  // `show`: the run's attempts (the dead one, then the replayed one), the replay and its steps.
  const shown = hdc('show', String(t2!.id), '--json');
  assert.is(shown.status, 0, shown.stderr);
  const report = JSON.parse(shown.stdout) as { status: string; controlId: string; attemptHistory: Array<{ status: string }>; replays: Array<{ by: string }>; steps: Array<{ status: string }> };
  assert.is(report.status, 'done');
  assert.is(report.controlId, 'T-2');
  assert.equal(report.replays.map((r) => r.by), ['tester']);
  assert.ok(report.attemptHistory.length >= 2, JSON.stringify(report.attemptHistory));
  assert.is(report.attemptHistory.at(-1)!.status, 'done');
  assert.ok(report.steps.length > 0 && report.steps.every((s) => s.status === 'done'));
  assert.match(hdc('show', String(t2!.id)).stdout, /replayed by tester|tester/);
  assert.is(hdc('show', '999999').status, 1);
});

test.run();
