// Two runtimes with the monitoring module on one PostgreSQL store, their dashboards behind a
// round-robin load balancer: traffic reaches both, and either dashboard shows the cluster's counts,
// finds a message the other received, keeps a session started on the other, writes one audit log,
// and an operator's replay asked on one is executed by the cluster (whichever engine claims it).
// Both runtimes' Prometheus gauges count the cluster's dead letters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../../runtime/store/pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { openPostgresStore, type PostgresStore } from '../../../runtime/store/postgres/open-postgres-store.ts';
import { PgEngine } from '../../../runtime/store/postgres/pg-engine.ts';
import { silentLogger } from '../../../runtime/platform/log/logger.ts';
import { hashPassword } from '../../../runtime/platform/login/password-hash.ts';
import { UsersTable } from '../../../runtime/platform/login/users-table.ts';
import type { FinishedEvent } from '../../../runtime/journal/run-events.ts';
import type { MonitoringInstance } from '../../../modules/monitoring/service.ts';
import { post, startTestRuntime, type TestRuntime } from '../../runtime/inbound/helpers.ts';
import { DASHBOARD_BLOCK, hl7, monitoredPlan, startPartnerApi, type PartnerApi } from './monitoring-harness.ts';
import { DashboardClient } from './dashboard-client.ts';
import { httpGet, parseExposition, sample } from './scrape.ts';
import type { OverviewData } from '../../../modules/monitoring/dashboard/overview-data.ts';

interface Node {
  rt: TestRuntime;
  store: PostgresStore;
  engine: PgEngine;
  module: MonitoringInstance;
}

let database: TestDatabase | null = null;
let api: PartnerApi | undefined;
let balancer: Server | undefined;
let lb = '';
const nodes: Node[] = [];
/** Which runtime's dashboard (0 or 1) answered each request through the balancer. */
const served: number[] = [];

/** Sends each request to the next dashboard in turn, as a round-robin load balancer does. */
function startBalancer(backends: string[]): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % backends.length;
    served.push(i);
    const target = new URL(req.url!, backends[i]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Resolves with the first `n` runs settled by any runtime that `match` accepts. */
function settledRuns(n: number, match: (e: FinishedEvent) => boolean): Promise<FinishedEvent[]> {
  return new Promise((resolve) => {
    const seen: FinishedEvent[] = [];
    const offs: Array<() => void> = [];
    for (const node of nodes) {
      const on = (e: FinishedEvent) => {
        if (!match(e) || seen.length >= n) return;
        seen.push(e);
        if (seen.length < n) return;
        for (const off of offs) off();
        resolve(seen);
      };
      node.rt.events.on('finished', on);
      offs.push(() => node.rt.events.off('finished', on));
    }
  });
}

const settledRun = async (match: (e: FinishedEvent) => boolean) => (await settledRuns(1, match))[0]!;

const sendTo = async (i: number, body: string) => {
  const a = await post(`${nodes[i]!.rt.url}/hl7/lab`, body);
  return a.text.split('\r').find((s) => s.startsWith('MSA'))?.split('|')[1];
};

/** Every runtime's counted cells written, then the overview through the balancer. */
async function overview(c: DashboardClient): Promise<OverviewData> {
  for (const n of nodes) await n.module.rollups.flush();
  const r = await c.get('/overview.json');
  assert.is(r.status, 200);
  return (JSON.parse(r.text) as { data: OverviewData }).data;
}

test.before(async () => {
  database = await createTestDatabase('monitoring_cluster');
  if (!database) return;
  api = await startPartnerApi();
  const plan = monitoredPlan(api.url, `${DASHBOARD_BLOCK}metrics { listen "127.0.0.1:0" }\n`);
  for (let i = 0; i < 2; i++) {
    const store = await openPostgresStore(plan, { url: database.url, runtimeId: `mon-${i}` });
    const rt = await startTestRuntime(plan, null, { journal: store.journal, shared: store });
    const engine = new PgEngine({ pool: store.enginePool, plan, runtimeId: store.runtimeId, leaseMs: store.leaseMs, events: rt.events, logger: silentLogger(), outboundHeaders: rt.outboundHeaders });
    await engine.start();
    nodes.push({ rt, store, engine, module: rt.modules.get('monitoring') as MonitoringInstance });
  }
  const users = new UsersTable(nodes[0]!.rt.sql);
  await users.add('otto', await hashPassword('operator-pass', { ln: 10, r: 8, p: 1 }), { groups: ['integration-team'] });
  balancer = await startBalancer(nodes.map((n) => n.module.dashboardUrl!));
  lb = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
});

test.after(async () => {
  balancer?.close();
  for (const n of nodes) await n.engine.stop();
  for (const n of nodes) await n.rt.stop();
  for (const n of nodes) await n.store.close();
  await api?.close();
  await database?.drop();
});

test('both dashboards show the cluster\'s traffic, find each other\'s messages, share sessions and one audit log, and replays run on the cluster', async () => {
  if (!database) return skipBecause('no PostgreSQL on 127.0.0.1:5432');
  const c = new DashboardClient(lb);
  const signIn = await c.signIn('otto', 'operator-pass');
  assert.is(signIn.status, 302);

  // Traffic to both runtimes: three ADT^A01 (workflow runs) and one ORU each way round.
  const done = settledRuns(3, (e) => e.status === 'done');
  assert.is(await sendTo(0, hl7({ family: 'ONE', controlId: 'CL-0' })), 'AA');
  assert.is(await sendTo(1, hl7({ family: 'TWO', controlId: 'CL-1' })), 'AA');
  assert.is(await sendTo(1, hl7({ family: 'THREE', controlId: 'CL-2' })), 'AA');
  assert.is(await sendTo(0, hl7({ type: 'ORU^R01^ORU_R01', controlId: 'CL-ORU' })), 'AA');
  await done;

  // The overview from either dashboard (the balancer alternates): the same counts, the sum of both runtimes'.
  const first = await overview(c);
  const second = await overview(c);
  assert.is(first.messages, 4);
  assert.equal(second.summaries, first.summaries);
  assert.equal(first.runs, [{ workflow: 'admit', status: 'done', count: 3 }]);
  assert.equal(second.runs, first.runs);
  assert.ok(first.senders.find((s) => s.sender === 'lab')!.lastMessageAt !== null);

  // A message received by runtime 0, found through both dashboards (and the session, started on
  // one of them, works on both).
  const before = served.length;
  for (let k = 0; k < 2; k++) {
    const found = await c.get('/messages?control_id=CL-0');
    assert.is(found.status, 200);
    assert.match(found.text, /CL-0/);
  }
  assert.equal(new Set(served.slice(before)), new Set([0, 1]));
  // A sender's messages, newest first (the statements the search sends PostgreSQL for a sender).
  const bySender = await c.get('/messages?sender=lab');
  assert.is(bySender.status, 200);
  assert.match(bySender.text, /CL-0/);
  assert.match(bySender.text, /CL-2/);
  assert.ok(bySender.text.indexOf('CL-2') < bySender.text.indexOf('CL-0'), 'newest first');
  // An operator's search by a mapped field (JSON in the runs' input, PostgreSQL's operators there).
  const byField = await c.get('/messages?field=family&value=TWO');
  assert.is(byField.status, 200);
  assert.match(byField.text, /CL-1/);
  assert.not.match(byField.text, /CL-0/);
  const messageId = Number(/href="\/messages\/(\d+)"/.exec((await c.get('/messages?control_id=CL-0')).text)?.[1]);
  assert.ok(messageId > 0);
  const page = await c.get(`/messages/${messageId}`);
  assert.is(page.status, 200);
  assert.match(page.text, /ONE/, 'the operator sees the content');
  assert.match(page.text, /notify/, 'and the run with its steps');

  // A dead letter (the partner API down), replayed from a dashboard once the API is back: the
  // run is executed by whichever runtime claims it.
  api!.broken = true;
  const dead = settledRun((e) => e.status === 'dead');
  assert.is(await sendTo(1, hl7({ family: 'FOUR', controlId: 'CL-DEAD' })), 'AA');
  const deadRun = (await dead).runId;
  api!.broken = false;
  // The gauges count the cluster's queue: every runtime reports the dead letter.
  for (const n of nodes) {
    const samples = parseExposition((await httpGet(`${n.module.metricsUrl}/metrics`)).text);
    assert.is(sample(samples, 'hdc_dead_letters', { workflow: 'admit' }), 1);
  }
  const deadPage = await c.get('/dead-letters');
  assert.match(deadPage.text, new RegExp(`data-run="${deadRun}"`));
  const replayed = settledRun((e) => e.runId === deadRun);
  const replay = await c.post(`/runs/${deadRun}/replay`, { csrf: await c.csrf(), confirm: 'yes' });
  assert.is(replay.status, 303);
  assert.is((await replayed).status, 'done');

  // Replaying a message: a new run of its workflow, executed by the cluster.
  const rerun = settledRun((e) => e.runId > deadRun && e.status === 'done');
  const again = await c.post(`/messages/${messageId}/replay`, { csrf: await c.csrf(), confirm: 'yes' });
  assert.is(again.status, 303);
  const fresh = await rerun;
  assert.match(again.location ?? '', new RegExp(`#run-${fresh.runId}$`));

  // One audit log: both runtimes see every entry, whichever dashboard wrote it.
  const logs = await Promise.all(nodes.map((n) => n.module.audit.list({ limit: 100 })));
  assert.equal(logs[0], logs[1]);
  const actions = logs[0]!.map((e) => e.action);
  for (const a of ['sign-in', 'view-message', 'replay-run', 'replay-message']) assert.ok(actions.includes(a as never), `${a} audited`);
  assert.ok(logs[0]!.some((e) => e.action === 'replay-run' && e.target === `run ${deadRun}` && e.outcome === 'queued again'));
  const audit = await c.get('/audit');
  assert.is(audit.status, 200);
  assert.match(audit.text, new RegExp(`run ${deadRun}`));

  // The counts include the replays: one dead, then done twice more.
  const after = await overview(c);
  assert.equal(after.runs, [{ workflow: 'admit', status: 'dead', count: 1 }, { workflow: 'admit', status: 'done', count: 5 }]);
  assert.is(after.deadLetters, 0);
});

test('retention: one runtime purges at a time; the rows of the cluster go once', async () => {
  if (!database) return skipBecause('no PostgreSQL on 127.0.0.1:5432');
  const old = Date.now() - 40 * 86_400_000;
  for (const n of nodes) {
    n.module.rollups.countMessage('lab', 'ADT^A01', 'AA', old, 12);
    await n.module.rollups.flush();
  }
  await nodes[0]!.module.audit.record({ username: 'otto', role: 'operator', action: 'sign-in', outcome: 'ok', at: old });
  const [a, b] = await Promise.all(nodes.map((n) => n.module.purge()));
  // Both runtimes added to the same minute row: one row and one audit entry removed, by one of them
  // (the other found the lock taken, or nothing left).
  assert.is(a! + b!, 2);
  const rows = await nodes[1]!.rt.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM monitoring_message_minutes WHERE minute < $1', [old + 60_000]);
  assert.is(rows!.n, 0);
});

test.run();
