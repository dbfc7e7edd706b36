// Durable before ACK with the PostgreSQL journal: when the database cannot be reached, nothing is
// acknowledged positively. The endpoint answers AR (207, system unavailable: resend later) and
// /ready says not ready until a probe finds the database again; then the resend is journaled and
// acknowledged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { createPool } from '../../../runtime/store/postgres/pg-pool.ts';
import { migratePostgres } from '../../../runtime/store/postgres/pg-migrate.ts';
import { PgJournal } from '../../../runtime/store/postgres/pg-journal.ts';
import { adt, makePlan, msas, post, sender, startTestRuntime, workflow, type TestRuntime } from '../inbound/helpers.ts';

let db: TestDatabase | null = null;
let pool: pg.Pool | undefined;
let rt: TestRuntime | undefined;
/** A TCP relay to PostgreSQL that the test can cut, standing in for a database outage. */
let relay: Server | undefined;
let relayUp = true;
const sockets = new Set<Socket>();

test.before(async () => {
  db = await createTestDatabase('outage');
  if (!db) return;
  const target = new URL(db.url);
  relay = createServer((client) => {
    if (!relayUp) return void client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => relay!.listen(0, '127.0.0.1', r));
  const viaRelay = new URL(db.url);
  viaRelay.hostname = '127.0.0.1';
  viaRelay.port = String((relay.address() as { port: number }).port);
  pool = createPool({ url: viaRelay.toString() });
  await migratePostgres(pool);
  const plan = makePlan([sender({ name: 'lab', path: '/hl7/lab', routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'o.hdc:1:1-1:2' }] })], [workflow('w')]);
  rt = await startTestRuntime(plan, null, { journal: new PgJournal({ pool, workflowHashes: new Map([['w', 'h']]) }) });
});

test.after(async () => {
  await rt?.stop();
  await pool?.end().catch(() => {});
  for (const s of sockets) s.destroy();
  relay?.close();
  await db?.drop();
});

test('no positive ACK while the database is unreachable; the resend is acknowledged once it is back', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const body = adt({ controlId: 'OUT-1' });
  const ok = await post(rt!.url + '/hl7/lab', adt({ controlId: 'OUT-0' }));
  assert.is(msas(ok.text)[0]!.code, 'AA');

  relayUp = false;
  for (const s of sockets) s.destroy();
  const refused = await post(rt!.url + '/hl7/lab', body);
  assert.is(msas(refused.text)[0]!.code, 'AR', 'never AA without a commit');
  assert.match(refused.text, /207/);
  const ready = await fetch(rt!.url + '/ready');
  assert.is(ready.status, 503, '/ready says not ready');

  relayUp = true;
  // Out of the load balancer meanwhile, it notices by itself that the database is back.
  const end = Date.now() + 30_000;
  while ((await fetch(rt!.url + '/ready')).status !== 200) {
    if (Date.now() > end) throw new Error('never ready again');
    await new Promise((r) => setTimeout(r, 100));
  }
  const again = await post(rt!.url + '/hl7/lab', body);
  assert.is(msas(again.text)[0]!.code, 'AA');
  const n = (await pool!.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM messages WHERE control_id = $1', ['OUT-1'])).rows[0]!.n;
  assert.is(n, 1);
});

test.run();
