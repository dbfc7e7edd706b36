// A rolling upgrade under load: two runtimes on plan v1, each in turn taken out of the load
// balancer, stopped (SIGTERM) and started again on plan v2 with --rolling, while partners keep
// sending. No message is refused or lost, every run is done exactly once, and each run executes
// the workflow definition it was journaled under while a runtime with that definition is alive
// (v1 runs left when the last v1 runtime stopped are adopted by v2 only if they never ran a step).
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
import { withPlanHash } from '../../../plan/plan-hash.ts';
import type { Plan } from '../../../plan/plan.types.ts';

let db: TestDatabase | null = null;
let pool: pg.Pool;
const dir = mkdtempSync(join(tmpdir(), 'hdc-rolling-'));
const running = new Set<ChildRuntime>();
/** Each call the workflow made: the control ID and the path (which plan version ran it). */
const calls: { cid: string; path: string }[] = [];
const sink = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    calls.push({ cid: (JSON.parse(body) as { cid: string }).cid, path: req.url! });
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 5);
  });
});

function planFor(base: string, version: string): Plan {
  const p = makePlan([
    sender({ name: 'lab', path: '/hl7/lab', fields: [field('key', 'PID-3.1')], routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'r.hdc:3:3-3:9' }] }),
  ], [{
    name: 'w', inputs: ['key'], src: 'r.hdc:5:1-5:9', orderBy: { ref: 'key' },
    steps: [{ id: 'tell', kind: 'rest', api: 'partner', method: 'POST', urlPath: { lit: `/${version}` },
      body: { object: [{ key: 'cid', value: { ref: 'message', path: ['controlId'] } }] }, src: 'r.hdc:6:3-6:40' }],
  }]);
  return withPlanHash({ ...p, apis: [{ name: 'partner', kind: 'rest', baseUrl: base, timeoutMs: 10_000, retry: { attempts: 5, backoffMs: 50 }, src: 'r.hdc:1:1-1:40' }] });
}

test.before(async () => {
  db = await createTestDatabase('rolling');
  if (!db) return;
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {});
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
});

test.after(async () => {
  for (const c of running) c.child.kill('SIGTERM');
  await Promise.all([...running].map((c) => c.exited));
  await pool?.end();
  await new Promise((r) => sink.close(r));
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('a rolling upgrade under load refuses nothing, loses nothing and runs each run once', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const files = { v1: join(dir, 'v1.json'), v2: join(dir, 'v2.json') };
  writeFileSync(files.v1, JSON.stringify(planFor(base, 'v1')));
  writeFileSync(files.v2, JSON.stringify(planFor(base, 'v2')));
  const start = async (version: 'v1' | 'v2', n: number, rolling: boolean) => {
    const rt = await startChild([files[version], '--insecure-http', '--port', '0', '--store', db!.url, '--lease', '3000',
      '--data', join(dir, `data-${n}`), '--log-level', 'warn', '--shutdown-timeout', '5000', ...(rolling ? ['--rolling'] : [])]);
    running.add(rt);
    return rt;
  };
  // The load balancer's pool of runtimes.
  const balancer: ChildRuntime[] = [await start('v1', 0, false), await start('v1', 1, false)];
  const acked = new Set<string>();
  const refused: string[] = [];
  let stop = false;
  let sent = 0;
  const partner = async (p: number) => {
    for (let i = 0; !stop; i++) {
      const cid = `R${p}-${i}`;
      const target = balancer[(p + i) % balancer.length]!;
      sent++;
      try {
        const r = await post(target.url + '/hl7/lab', adt({ controlId: cid }).replace('PID|1||12345', `PID|1||K${i % 4}`));
        if (msas(r.text)[0]?.code === 'AA') acked.add(cid);
        else refused.push(`${cid}: ${r.text.slice(0, 120)}`);
      } catch (err) {
        refused.push(`${cid}: ${(err as Error).message}`);
      }
    }
  };
  const load = Promise.all([0, 1, 2].map(partner));
  const upgrade = async (slot: number, n: number) => {
    const old = balancer[slot]!;
    balancer.splice(slot, 1); // out of the balancer first, then stopped: it drains what it holds
    await new Promise((r) => setTimeout(r, 200));
    old.child.kill('SIGTERM');
    await old.exited;
    running.delete(old);
    balancer.splice(slot, 0, await start('v2', n, true));
  };
  while (sent < 40) await new Promise((r) => setTimeout(r, 20));
  await upgrade(0, 2);
  const mid = sent;
  while (sent < mid + 40) await new Promise((r) => setTimeout(r, 20));
  await upgrade(1, 3);
  const after = sent;
  while (sent < after + 40) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await load;

  assert.equal(refused, [], 'no message refused during the upgrade');
  await (async () => {
    const end = Date.now() + 90_000;
    while ((await pool.query(`SELECT 1 FROM workflow_runs WHERE status <> 'done' LIMIT 1`)).rowCount !== 0) {
      if (Date.now() > end) throw new Error('runs not done: ' + JSON.stringify((await pool.query(`SELECT id, status, workflow_hash, attempts FROM workflow_runs WHERE status <> 'done'`)).rows));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const rows = (await pool.query<{ cid: string; n: number; hash: string; done: number }>(
    `SELECT m.control_id AS cid, COUNT(*) OVER (PARTITION BY m.control_id)::int AS n, r.workflow_hash AS hash,
       (SELECT COUNT(*)::int FROM run_attempts a WHERE a.run_id = r.id AND a.status = 'done') AS done
     FROM messages m JOIN workflow_runs r ON r.message_id = m.id`)).rows;
  const byCid = new Map(rows.map((r) => [r.cid, r]));
  for (const cid of acked) {
    assert.is(byCid.get(cid)?.n, 1, `${cid} journaled once`);
    assert.is(byCid.get(cid)?.done, 1, `${cid}'s run done once`);
  }
  // A run journaled by a v2 runtime ran the v2 definition.
  const v2Hash = rows.find((r) => calls.some((c) => c.cid === r.cid && c.path === '/v2'))?.hash;
  const wrong = rows.filter((r) => r.hash === v2Hash && calls.some((c) => c.cid === r.cid && c.path === '/v1'));
  assert.equal(wrong.map((r) => r.cid), [], 'no v2 run executed by a v1 runtime');
  console.log(`  ${acked.size} acknowledged during two restarts; ${calls.filter((c) => c.path === '/v1').length} calls by v1, ${calls.filter((c) => c.path === '/v2').length} by v2`);
});

test.run();
