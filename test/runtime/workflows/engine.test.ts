// The engine against a real loopback HTTP API and a real SQLite file: step chaining and data
// sharing, if/for_each/let/store/reject, persisted step results, resume without repeating
// finished steps, retries, dead letters and replay, ordering by key, bounded concurrency.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, type EngineOptions } from '../../../runtime/workflows/engine.ts';
import { RunEvents, type FinishedEvent } from '../../../runtime/journal/run-events.ts';
import { api, enqueue, lit, obj, op, plan, ref, src, tempDb, tpl, workflow, type TempDb } from './fixtures.ts';
import type { Plan } from '../../../plan/plan.types.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes = new Map<string, Handler>();
const seen: Array<{ method: string; url: string; body: string }> = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, body });
    const path = new URL(req.url!, 'http://x').pathname;
    const h = routes.get(`${req.method} ${path}`);
    if (!h) return void res.writeHead(404).end('{}');
    h(req, res, body);
  });
});
const json = (res: ServerResponse, v: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json', 'x-trace': 't1' }).end(JSON.stringify(v));
let base = '';
let t: TempDb;
const engines: Engine[] = [];

function engine(p: Plan, extra: Partial<EngineOptions> = {}) {
  const e = new Engine({ db: t.db, plan: p, retryBaseMs: 20, retryMaxMs: 50, pollMs: 20, ...extra });
  engines.push(e);
  return e;
}
function run(id: number) {
  return t.db.prepare('SELECT * FROM workflow_runs WHERE id = ?').get(id) as { status: string; attempts: number; outcome: string | null; error: string | null };
}
function steps(id: number) {
  return t.db.prepare('SELECT path, status, result, error FROM run_steps WHERE run_id = ? ORDER BY path').all(id) as Array<{ path: string; status: string; result: string; error: string | null }>;
}
async function until(check: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
test.after(async () => {
  await new Promise((r) => server.close(r));
});
test.before.each(() => {
  t = tempDb();
  seen.length = 0;
  routes.clear();
});
test.after.each(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
  t.dispose();
});

const chain = (retry = { attempts: 2, backoffMs: 5 }) =>
  plan({
    apis: [api('billing', 'rest', base, { retry })],
    workflows: [
      workflow('admit', [
        { id: 'patient', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: tpl('/patients/', ref('mrn')), src: src(10) },
        {
          id: 'if1', kind: 'if', cond: op('==', ref('patient', 'active'), lit(true)), src: src(11),
          then: [
            { id: 'charges', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: lit('/charges'), query: obj({ patient: ref('patient', 'id'), trace: ref('patient', '$headers', 'x-trace') }), src: src(12) },
            {
              id: 'each1', kind: 'for_each', var: 'item', over: ref('charges', 'items'), src: src(13),
              steps: [{ id: 'post', named: true, kind: 'rest', api: 'billing', method: 'POST', urlPath: lit('/lines'), body: obj({ code: ref('item', 'code'), status: ref('charges', '$status') }), src: src(14) }],
            },
            { id: 'total', named: true, kind: 'let', value: ref('charges', 'total'), src: src(15) },
            { id: 'keep', kind: 'store', collection: 'admissions', key: ref('mrn'), value: obj({ mrn: ref('mrn'), total: ref('total'), type: ref('message', 'type') }), src: src(16) },
          ],
          else: [{ id: 'no', kind: 'reject', code: 'AE', text: tpl('inactive patient ', ref('mrn')), src: src(17) }],
        },
      ]),
    ],
  });

test('a chain runs end to end: results feed later steps, loops, let, store', async () => {
  routes.set('GET /api/patients/A%2F1%202', (_q, res) => json(res, { id: 'p1', active: true }));
  routes.set('GET /api/charges', (_q, res) => json(res, { total: 30, items: [{ code: 'x' }, { code: 'y' }] }));
  routes.set('POST /api/lines', (_q, res) => json(res, { ok: true }, 201));
  const events = new RunEvents();
  const finished: FinishedEvent[] = [];
  events.on('finished', (e) => finished.push(e));
  const e = engine(chain(), { events });
  e.start();
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'A/1 2' } }]);
  events.emit('enqueued', { runIds: [id], messageId: 1, sender: 'lab' });
  await until(() => finished.length === 1);
  assert.equal(finished[0], { runId: id, workflow: 'admit', status: 'done' });
  assert.is(run(id).status, 'done');
  assert.equal(seen.map((s) => `${s.method} ${s.url}`), ['GET /api/patients/A%2F1%202', 'GET /api/charges?patient=p1&trace=t1', 'POST /api/lines', 'POST /api/lines']);
  assert.equal(JSON.parse(seen[2].body), { code: 'x', status: 200 });
  assert.equal(steps(id).map((s) => s.path), ['0', '1', '1/then/0', '1/then/1', '1/then/1/each/0/0', '1/then/1/each/1/0', '1/then/2', '1/then/3']);
  assert.equal(e.store.records('admissions').map((r) => r.value), [{ mrn: 'A/1 2', total: 30, type: 'ADT' }]);
  // The same key replaces the record.
  const [id2] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'A/1 2' } }]);
  e.pump();
  await until(() => run(id2).status === 'done');
  assert.is(e.store.records('admissions').length, 1);
  assert.is(e.store.records('admissions')[0].runId, id2);
});

test('reject ends the run with its outcome', async () => {
  routes.set('GET /api/patients/B', (_q, res) => json(res, { id: 'p2', active: false }));
  const events = new RunEvents();
  const e = engine(chain(), { events });
  e.start();
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'B' } }]);
  const wait = events.waitForFinished(id, 5000);
  e.pump();
  assert.equal(await wait, { runId: id, workflow: 'admit', status: 'rejected', outcome: { code: 'AE', text: 'inactive patient B' } });
  assert.equal(JSON.parse(run(id).outcome!), { code: 'AE', text: 'inactive patient B' });
});

test('a transient failure retries the run from the failed step; finished steps are not repeated', async () => {
  routes.set('GET /api/patients/C', (_q, res) => json(res, { id: 'p3', active: true }));
  let charges = 0;
  routes.set('GET /api/charges', (_q, res) => (++charges <= 2 ? res.writeHead(503).end() : json(res, { total: 1, items: [] })));
  const e = engine(chain({ attempts: 3, backoffMs: 5 }));
  e.start();
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'C' } }]);
  e.pump();
  await until(() => run(id).status === 'done');
  assert.is(run(id).attempts, 3);
  assert.is(seen.filter((s) => s.url.startsWith('/api/patients')).length, 1);
  assert.is(charges, 3); // one request per run attempt: the API's policy allows three
  const history = e.store.attempts(id).map((a) => [a.attempt, a.status, a.step_path, a.api, a.http_status]);
  assert.equal(history, [[1, 'failed', '1/then/0', 'billing', 503], [2, 'failed', '1/then/0', 'billing', 503], [3, 'done', null, null, null]]);
});

test('permanent failures and exhausted retries become dead letters; replay resumes them', async () => {
  routes.set('GET /api/patients/D', (_q, res) => json(res, { id: 'p4', active: true }));
  routes.set('GET /api/charges', (_q, res) => res.writeHead(500, 'Internal Server Error').end());
  const e = engine(chain(), { maxAttempts: 2 });
  e.start();
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'D' } }]);
  e.pump();
  await until(() => run(id).status === 'dead');
  const r = run(id);
  assert.is(r.attempts, 2);
  assert.is(r.error, 'flows/admit.hdc:12: GET billing /charges failed: 500 Internal Server Error after 2 attempts');
  const failed = steps(id).find((s) => s.path === '1/then/0')!;
  assert.is(failed.status, 'failed');
  assert.is(failed.error, 'flows/admit.hdc:12: GET billing /charges failed: 500 Internal Server Error', 'the step keeps its own attempt\'s error');

  routes.set('GET /api/charges', (_q, res) => json(res, { total: 5, items: [] }));
  const before = seen.filter((s) => s.url.startsWith('/api/patients')).length;
  assert.ok(e.store.replay(id, Date.now()));
  e.pump();
  await until(() => run(id).status === 'done');
  assert.is(seen.filter((s) => s.url.startsWith('/api/patients')).length, before);

  // A 404 is permanent: dead after one attempt.
  const [id2] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'nobody' } }]);
  e.pump();
  await until(() => run(id2).status === 'dead');
  assert.is(run(id2).attempts, 1);
  assert.match(run(id2).error!, /^flows\/admit\.hdc:10: GET billing \/patients\/\{…\} failed: 404/);
});

test('runs with the same order key run one at a time in journal order; others run alongside', async () => {
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  routes.set('POST /api/slow', (_q, res, body) => {
    const { key, n } = JSON.parse(body);
    active++;
    maxActive = Math.max(maxActive, active);
    log.push(`start ${key}${n}`);
    setTimeout(() => {
      log.push(`end ${key}${n}`);
      active--;
      json(res, {});
    }, 30);
  });
  const p = plan({
    apis: [api('billing', 'rest', base)],
    workflows: [workflow('slow', [{ id: 's', kind: 'rest', api: 'billing', method: 'POST', urlPath: lit('/slow'), body: obj({ key: ref('key'), n: ref('n') }), src: src(20) }])],
  });
  const ids: number[] = [];
  for (let n = 1; n <= 3; n++) {
    ids.push(...enqueue(t.journal, [{ workflow: 'slow', fields: { key: 'a', n }, orderKey: 'a' }]));
    ids.push(...enqueue(t.journal, [{ workflow: 'slow', fields: { key: 'b', n }, orderKey: 'b' }]));
  }
  const e = engine(p, { concurrency: 4 });
  e.start();
  await until(() => ids.every((id) => run(id).status === 'done'));
  for (const key of ['a', 'b']) {
    const mine = log.filter((l) => l.endsWith(key + '1') || l.endsWith(key + '2') || l.endsWith(key + '3')).map((l) => l.replace(' ' + key, ' '));
    assert.equal(mine, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  }
  assert.is(maxActive, 2);
});

test('concurrency is bounded engine-wide and per workflow', async () => {
  let active = 0;
  let maxActive = 0;
  routes.set('GET /api/wait', (_q, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    setTimeout(() => (active--, json(res, {})), 20);
  });
  const step = { id: 'w', kind: 'rest' as const, api: 'billing', method: 'GET' as const, urlPath: lit('/wait'), src: src(30) };
  const p = plan({ apis: [api('billing', 'rest', base)], workflows: [workflow('w3', [step]), workflow('w1', [step], { concurrency: 1 })] });
  const ids = Array.from({ length: 12 }, () => enqueue(t.journal, [{ workflow: 'w3' }])[0]);
  const e = engine(p, { concurrency: 3 });
  e.start();
  await until(() => ids.every((id) => run(id).status === 'done'));
  assert.is(maxActive, 3);
  maxActive = 0;
  const ids1 = Array.from({ length: 5 }, () => enqueue(t.journal, [{ workflow: 'w1' }])[0]);
  e.pump();
  await until(() => ids1.every((id) => run(id).status === 'done'));
  assert.is(maxActive, 1);
});

test('a run interrupted mid-way (process died) resumes at its first unfinished step', async () => {
  routes.set('GET /api/patients/E', (_q, res) => json(res, { id: 'p5', active: true }));
  routes.set('GET /api/charges', (_q, res) => json(res, { total: 2, items: [{ code: 'z' }] }));
  routes.set('POST /api/lines', (_q, res) => json(res, {}));
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'E' } }]);
  // What a crash leaves behind: the run marked running, its first steps recorded.
  const first = engine(chain());
  first.start();
  await until(() => run(id).status === 'done');
  t.db.prepare(`DELETE FROM run_steps WHERE run_id = ? AND path NOT IN ('0', '1', '1/then/0')`).run(id);
  t.db.prepare(`UPDATE workflow_runs SET status = 'running' WHERE id = ?`).run(id);
  t.db.prepare('DELETE FROM stored_records').run();
  await first.stop();
  seen.length = 0;
  const second = engine(chain());
  second.start();
  await until(() => run(id).status === 'done');
  assert.equal(seen.map((s) => `${s.method} ${s.url}`), ['POST /api/lines']);
  assert.equal(second.store.records('admissions')[0].value, { mrn: 'E', total: 2, type: 'ADT' });
});

test('an undeclared API or a URL leaving the base fails permanently, naming the line', async () => {
  const p = plan({
    apis: [api('billing', 'rest', base)],
    workflows: [
      workflow('bad', [{ id: 'x', kind: 'rest', api: 'billing', method: 'GET', urlPath: tpl('/patients/', ref('id')), src: src(40) }]),
      workflow('far', [{ id: 'y', kind: 'rest', api: 'billing', method: 'GET', urlPath: lit('http://elsewhere.example/x'), src: src(41) }]),
    ],
  });
  const e = engine(p);
  e.start();
  const [a] = enqueue(t.journal, [{ workflow: 'bad', fields: { id: '..' } }]);
  const [b] = enqueue(t.journal, [{ workflow: 'far' }]);
  e.pump();
  await until(() => run(a).status === 'dead' && run(b).status === 'dead');
  assert.is(run(a).error, 'flows/admit.hdc:40: a path value is ".."');
  assert.match(run(b).error!, /^flows\/admit\.hdc:41: request URL leaves the API base/);
  assert.is(seen.length, 0);
});

test('send message forwards the raw HL7 and checks the ACK; send value posts JSON', async () => {
  let ackCode = 'AA';
  routes.set('POST /api/hl7', (_req, res, body) => {
    const control = body.split('\r')[0].split('|')[9];
    res.writeHead(200, { 'content-type': 'application/hl7-v2' }).end(`MSH|^~\\&|DOWN|X|HDC|Y|20240101||ACK^A01^ACK|A9|P|2.5.1\rMSA|${ackCode}|${control}\r`);
  });
  routes.set('POST /api/events', (_q, res) => json(res, { id: 7 }, 201));
  const p = plan({
    apis: [api('down', 'hl7', `${base}/hl7`), api('billing', 'rest', base)],
    workflows: [
      workflow('fwd', [
        { id: 'fwd', named: true, kind: 'send', api: 'down', payload: 'message', src: src(50) },
        { id: 'evt', named: true, kind: 'send', api: 'billing', payload: 'value', urlPath: lit('/events'), value: obj({ mrn: ref('mrn'), ack: ref('fwd', '$status') }), src: src(51) },
      ]),
    ],
  });
  const e = engine(p);
  e.start();
  const raw = 'MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|FWD1|P|2.5.1\rPID|1||Ö1^^^ACME^MR\r';
  const [id] = enqueue(t.journal, [{ workflow: 'fwd', fields: { mrn: 'Ö1' } }], { raw });
  e.pump();
  await until(() => run(id).status === 'done');
  const hl7 = seen.find((s) => s.url === '/api/hl7')!;
  assert.is(hl7.body, raw);
  assert.equal(JSON.parse(seen.find((s) => s.url === '/api/events')!.body), { mrn: 'Ö1', ack: 200 });

  ackCode = 'AE';
  const [id2] = enqueue(t.journal, [{ workflow: 'fwd', fields: { mrn: 'x' } }]);
  e.pump();
  await until(() => run(id2).status === 'dead');
  assert.is(run(id2).error, 'flows/admit.hdc:50: send to down: the receiver answered AE');
});

test.run();
