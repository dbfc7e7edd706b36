// Three `hdc run` processes on one PostgreSQL database under load from several partners: one is
// killed with SIGKILL mid-load. Every positively acknowledged message is journaled exactly once,
// every run is done exactly once (its runtime's lease runs out and another resumes it), order keys
// hold across runtimes, and a resend posted to two runtimes at the same moment is answered once
// and the same way. A runtime with another plan refuses to join (HDC8300) unless --rolling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { startChild, type ChildRuntime } from '../inbound/child-runtime.ts';
import { adt, field, makePlan, msas, post, sender } from '../inbound/helpers.ts';
import type { Plan } from '../../../plan/plan.types.ts';

const LEASE_MS = 3000;
const PARTNERS = 6;
const PER_PARTNER = 40;
const KEYS = ['K1', 'K2', 'K3', 'K4', 'K5'];

let db: TestDatabase | null = null;
let pool: pg.Pool;
const dir = mkdtempSync(join(tmpdir(), 'hdc-cluster-'));
const children: ChildRuntime[] = [];
/** Calls the workflow made to the partner API: control ID in arrival order. */
const calls: string[] = [];
const sink = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    calls.push((JSON.parse(body) as { cid: string }).cid);
    // A little latency keeps runs in flight when a runtime is killed.
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 15);
  });
});

function withApi(base: string, variant: string): Plan {
  const p = makePlan([
    sender({ name: 'lab', path: '/hl7/lab', fields: [field('key', 'PID-3.1')], routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'c.hdc:3:3-3:9' }] }),
  ], [{
    name: 'w', inputs: ['key'], src: 'c.hdc:5:1-5:9', orderBy: { ref: 'key' },
    steps: [
      { id: 'tell', kind: 'rest', api: 'partner', method: 'POST', urlPath: { lit: '/calls' + variant },
        body: { object: [{ key: 'cid', value: { ref: 'message', path: ['controlId'] } }, { key: 'key', value: { ref: 'key' } }] }, src: 'c.hdc:6:3-6:40' },
      { id: 'keep', kind: 'store', collection: 'done', key: { ref: 'message', path: ['controlId'] }, value: { ref: 'key' }, src: 'c.hdc:7:3-7:40' },
    ],
  }]);
  return { ...p, apis: [{ name: 'partner', kind: 'rest', baseUrl: base, timeoutMs: 10_000, retry: { attempts: 5, backoffMs: 50 }, src: 'c.hdc:1:1-1:40' }], hash: '' } as Plan;
}

async function writePlan(name: string, plan: Plan): Promise<string> {
  const { withPlanHash } = await import('../../../plan/plan-hash.ts');
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(withPlanHash(plan)));
  return file;
}

const runtimeArgs = (planFile: string, i: number) =>
  [planFile, '--insecure-http', '--port', '0', '--store', db!.url, '--lease', String(LEASE_MS), '--data', join(dir, `data-${i}`), '--log-level', 'warn'];

function message(controlId: string, key: string): string {
  return adt({ controlId }).replace('PID|1||12345^^^ACME^MR', `PID|1||${key}^^^ACME^MR`);
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let planFile = '';
let base = '';

test.before(async () => {
  db = await createTestDatabase('cluster');
  if (!db) return;
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {});
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  planFile = await writePlan('plan.json', withApi(base, ''));
  // Started together: migrations run once (advisory lock) whichever comes first.
  children.push(...await Promise.all([0, 1, 2].map((i) => startChild(runtimeArgs(planFile, i)))));
});

test.after(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
  await pool?.end();
  await new Promise((r) => sink.close(r));
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('a resend posted to two runtimes at the same moment is journaled once; both answer with the same ACK', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  for (let i = 0; i < 5; i++) {
    const body = message(`DUP-${i}`, 'KD');
    const [a, b] = await Promise.all([post(children[0]!.url + '/hl7/lab', body), post(children[1]!.url + '/hl7/lab', body)]);
    assert.is(msas(a.text)[0]!.code, 'AA');
    assert.ok(a.body.equals(b.body), 'the same ACK, byte for byte');
    const n = (await pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM messages WHERE control_id = $1', [`DUP-${i}`])).rows[0]!.n;
    assert.is(n, 1);
  }
});

test('three runtimes under load, one SIGKILLed: acked messages journaled once, runs done once, order keys held', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const acked = new Set<string>();
  let sent = 0;
  let killedAt = 0;
  const victim = children[2]!;
  const partner = async (p: number) => {
    for (let i = 0; i < PER_PARTNER; i++) {
      const cid = `P${p}-${i}`;
      const target = children[(p + i) % 3]!;
      if (++sent === Math.floor((PARTNERS * PER_PARTNER) / 3) && !killedAt) {
        victim.child.kill('SIGKILL');
        killedAt = Date.now();
      }
      const alive = target !== victim || !killedAt;
      try {
        const r = await post((alive ? target : children[p % 2]!).url + '/hl7/lab', message(cid, KEYS[(p + i) % KEYS.length]!));
        if (msas(r.text)[0]?.code === 'AA') acked.add(cid);
      } catch {
        // the killed runtime's connection: not acknowledged, the partner would resend
      }
    }
  };
  await Promise.all(Array.from({ length: PARTNERS }, (_, p) => partner(p)));
  assert.ok(killedAt > 0);
  assert.ok(acked.size >= PARTNERS * PER_PARTNER - 10, `most messages acknowledged (${acked.size})`);

  // Every run settles: the victim's claimed runs come back once its lease ran out.
  await until(async () => (await pool.query(`SELECT 1 FROM workflow_runs WHERE status <> 'done' LIMIT 1`)).rowCount === 0, 120_000, 'every run done');
  const failoverSeconds = (Date.now() - killedAt) / 1000;

  const messages = (await pool.query<{ control_id: string; n: number }>(`SELECT control_id, COUNT(*)::int AS n FROM messages WHERE control_id LIKE 'P%' GROUP BY control_id`)).rows;
  const count = new Map(messages.map((m) => [m.control_id, m.n]));
  for (const cid of acked) assert.is(count.get(cid), 1, `acknowledged ${cid} journaled exactly once`);

  const runs = (await pool.query<{ id: number; cid: string; key: string; status: string; done: number }>(
    `SELECT r.id, m.control_id AS cid, r.order_key AS key, r.status,
       (SELECT COUNT(*)::int FROM run_attempts a WHERE a.run_id = r.id AND a.status = 'done') AS done
     FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id LIKE 'P%' ORDER BY r.id`)).rows;
  assert.is(runs.length, messages.length, 'one run per journaled message');
  for (const r of runs) assert.is(r.done, 1, `run ${r.id} done exactly once`);
  const stored = (await pool.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM stored_records WHERE collection = 'done' AND key LIKE 'P%'`)).rows[0]!.n;
  assert.is(stored, runs.length, 'each run stored its record once');

  // Order keys: for each key, the runs first reached the partner in journal (run id) order.
  const runOf = new Map(runs.map((r) => [r.cid, r]));
  const firstCall = new Map<string, number>();
  calls.forEach((cid, i) => { if (!firstCall.has(cid)) firstCall.set(cid, i); });
  for (const key of KEYS) {
    const order = runs.filter((r) => r.key === key).map((r) => firstCall.get(r.cid)!);
    for (let i = 1; i < order.length; i++) assert.ok(order[i]! > order[i - 1]!, `key ${key}: run ${i} reached the partner after run ${i - 1}`);
  }
  assert.ok(runOf.size > 0);
  const interrupted = (await pool.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM run_attempts WHERE status = 'interrupted'`)).rows[0]!.n;
  console.log(`  ${acked.size} acknowledged, ${runs.length} runs, ${interrupted} taken over from the killed runtime, all done ${failoverSeconds.toFixed(1)} s after the kill`);
  assert.ok(failoverSeconds < 60, 'failover well within a minute');
});

test('a runtime with another plan refuses to join (HDC8300); with --rolling it joins', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const other = await writePlan('other.json', withApi(base, '-v2'));
  try {
    await startChild(runtimeArgs(other, 7));
    assert.unreachable('joined a cluster running another plan');
  } catch (err) {
    assert.match((err as Error).message, /HDC8300/);
  }
  const rolling = await startChild([...runtimeArgs(other, 8), '--rolling']);
  children.push(rolling);
  assert.match(rolling.url, /^http:\/\//);
});

test('the plan\'s `store postgres env("DATABASE_URL")` wins over --store', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const hdc = join(dir, 'project.hdc');
  writeFileSync(hdc, [
    'store postgres env("DATABASE_URL")',
    'sender lab {', '  path "/hl7/lab"', '  accept ADT^A01', '  on ADT^A01 run keep', '}',
    'workflow keep {', '  store { type: message.type } in "kept"', '}', '',
  ].join('\n'));
  const rt = await startChild([hdc, '--insecure-http', '--port', '0', '--store', 'postgres://nobody@127.0.0.1:1/none', '--rolling', '--data', join(dir, 'data-9')],
    { DATABASE_URL: db!.url });
  children.push(rt);
  assert.match(rt.stderr.join('\n'), /store postgres:\/\/.*\(from the plan\)/);
  const r = await post(rt.url + '/hl7/lab', message('PLAN-1', 'KP'));
  assert.is(msas(r.text)[0]!.code, 'AA');
  await until(async () => (await pool.query(`SELECT 1 FROM stored_records WHERE collection = 'kept'`)).rowCount === 1, 60_000, 'the run on the plan\'s store');
});

test.run();
