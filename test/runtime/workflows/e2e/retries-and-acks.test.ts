// Retries and the truth about them, through the real listener, engine and peers on loopback:
// - each API's retry policy decides the run's next attempt; POST is sent again only when the
//   server said it did not process it (429, 503 with Retry-After, connection refused), and a
//   conditional create is safe to repeat;
// - `ack after_workflow` answers the commit ACK at once when the next attempt is due after the
//   timeout, and waits when it is due before;
// - a workflow that rejects a message already acknowledged positively is a dead letter
//   "rejected after acknowledgement", counted on the traffic line and by `hdc runs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import got from 'got';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Api, Expr, MessageType, Plan, Step } from '../../../../plan/plan.types.ts';
import runsCommand from '../../../../cli/commands/runs.ts';
import { withPlanHash } from '../../../../plan/plan-hash.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { mapFields } from '../../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../../runtime/inbound/order-key.ts';
import { startRuntime, type Runtime } from '../../../../runtime/platform/start-runtime.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { startRestApi, type RestApi } from '../../../peers/rest-api.ts';
import { field, sender } from '../../inbound/helpers.ts';

const S = (line: number) => `flows/retries.hdc:${line}:3-${line}:60`;
const ref = (name: string, ...path: Array<string | number>): Expr => (path.length ? { ref: name, path } : { ref: name });
const lit = (v: string | number): Expr => ({ lit: v });
const obj = (e: Record<string, Expr>): Expr => ({ object: Object.entries(e).map(([key, value]) => ({ key, value })) });
const ADT: [MessageType] = [{ code: 'ADT', trigger: 'A01' }];

let billing: RestApi;
let fhir: FhirServer;
let runtime: Runtime;
let engine: Engine;
let events: RunEvents;
let dir: string;
let closedPort: number;
const logLines: Array<Record<string, unknown>> = [];

const rest = (name: string, baseUrl: string, retry: Api['retry']): Api => ({ name, kind: 'rest', baseUrl, auth: 'billing', format: 'json', timeoutMs: 3000, retry, src: S(1) });
const charges = (api: string, line: number): Step => ({
  id: 'charges', named: true, kind: 'rest', api, method: 'GET', urlPath: lit('/charges'), query: obj({ from: lit('2024-01-01'), to: lit('2024-01-02') }), src: S(line),
});
const rejectUnknown = (line: number): Step => ({
  id: 'known', kind: 'if', cond: { op: '==', args: [ref('mrn'), lit('NOPE')] }, then: [{ id: 'no', kind: 'reject', code: 'AE', text: { template: ['unknown patient ', ref('mrn')] }, src: S(line) }], src: S(line),
});
const admit = (api: string, line: number): Step => ({ id: 'admission', kind: 'rest', api, method: 'POST', urlPath: lit('/admissions'), body: obj({ mrn: ref('mrn') }), src: S(line) });

function buildPlan(): Plan {
  const route = (workflow: string) => [{ types: ADT, workflow, src: S(40) }];
  const fields = [field('mrn', 'PID-3.1')];
  const afterWorkflow = (timeoutMs: number) => ({ mode: 'after_workflow' as const, timeoutMs });
  return withPlanHash({
    planVersion: 1,
    compiler: 'hdc test',
    sources: [],
    auths: [{ name: 'billing', kind: 'basic', user: 'u', password: 'p', src: S(3) }],
    apis: [
      // The next attempt an hour away: far beyond any ACK timeout.
      rest('slow', billing.baseUrl, { attempts: 3, backoffMs: 3_600_000, maxBackoffMs: 3_600_000 }),
      rest('quick', billing.baseUrl, { attempts: 3, backoffMs: 20, maxBackoffMs: 50 }),
      rest('gone', `http://127.0.0.1:${closedPort}/api`, { attempts: 3, backoffMs: 20, maxBackoffMs: 50 }),
      { name: 'ehr', kind: 'fhir', baseUrl: fhir.baseUrl, timeoutMs: 3000, retry: { attempts: 3, backoffMs: 20, maxBackoffMs: 50 }, src: S(2) },
    ],
    senders: [
      sender({ name: 'slow', path: '/hl7/slow', accept: ADT, ack: afterWorkflow(20_000), fields, routes: route('via_slow') }),
      sender({ name: 'quick', path: '/hl7/quick', accept: ADT, ack: afterWorkflow(20_000), fields, routes: route('via_quick') }),
      sender({ name: 'tight', path: '/hl7/tight', accept: ADT, ack: afterWorkflow(300), fields, routes: route('via_quick') }),
      sender({ name: 'plain', path: '/hl7/plain', accept: ADT, fields, routes: route('via_quick') }),
      sender({ name: 'poster', path: '/hl7/post', accept: ADT, fields, routes: route('post') }),
      sender({ name: 'nowhere', path: '/hl7/nowhere', accept: ADT, fields, routes: route('post_nowhere') }),
      sender({ name: 'fhir', path: '/hl7/fhir', accept: ADT, fields, routes: route('create') }),
      sender({ name: 'fhir_cond', path: '/hl7/fhir-cond', accept: ADT, fields, routes: route('create_once') }),
    ],
    workflows: [
      { name: 'via_slow', inputs: ['mrn'], steps: [charges('slow', 10)], src: S(9) },
      { name: 'via_quick', inputs: ['mrn'], steps: [charges('quick', 12), rejectUnknown(13)], src: S(11) },
      { name: 'post', inputs: ['mrn'], steps: [admit('quick', 15)], src: S(14) },
      { name: 'post_nowhere', inputs: ['mrn'], steps: [admit('gone', 17)], src: S(16) },
      {
        name: 'create', inputs: ['mrn'], src: S(18),
        steps: [{ id: 'patient', kind: 'fhir', api: 'ehr', interaction: 'create', resourceType: 'Patient', body: obj({ resourceType: lit('Patient'), identifier: { list: [obj({ system: lit('urn:mrn'), value: ref('mrn') })] } }), src: S(19) }],
      },
      {
        name: 'create_once', inputs: ['mrn'], src: S(20),
        steps: [{
          id: 'patient', kind: 'fhir', api: 'ehr', interaction: 'conditional_create', resourceType: 'Patient', params: obj({ identifier: { template: ['urn:mrn|', ref('mrn')] } }),
          body: obj({ resourceType: lit('Patient'), identifier: { list: [obj({ system: lit('urn:mrn'), value: ref('mrn') })] } }), src: S(21),
        }],
      },
    ],
    launches: [],
    tests: [],
  });
}

let control = 0;
function adt(mrn: string): { controlId: string; text: string } {
  const controlId = `RT${++control}`;
  return { controlId, text: [`MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|${controlId}|P|2.5.1`, `PID|1||${mrn}^^^ACME^MR||Doe^Jane`].join('\r') + '\r' };
}
async function post(path: string, mrn: string): Promise<{ controlId: string; ack: string; ms: number }> {
  const m = adt(mrn);
  const started = performance.now();
  const res = await got.post(runtime.url + path, { body: m.text, headers: { 'content-type': 'application/hl7-v2; charset=utf-8' }, throwHttpErrors: false });
  assert.is(res.statusCode, 200);
  return { controlId: m.controlId, ack: res.body, ms: performance.now() - started };
}
type RunRow = { id: number; status: string; attempts: number; error: string | null; outcome: string | null; next_attempt_at: number };
function runOf(controlId: string): RunRow | undefined {
  return runtime.db.prepare('SELECT r.* FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id = ?').get(controlId) as RunRow | undefined;
}
/** Resolves with the run once the engine announced it settled (or once it is already). */
function settled(controlId: string, ms = 15_000): Promise<RunRow> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const r = runOf(controlId);
      if (r && ['done', 'rejected', 'dead'].includes(r.status)) {
        cleanup();
        resolve(r);
      }
    };
    const timer = setTimeout(() => (cleanup(), reject(new Error(`run for ${controlId} did not settle: ${JSON.stringify(runOf(controlId))}`))), ms);
    const cleanup = () => (clearTimeout(timer), events.off('finished', check));
    events.on('finished', check);
    check();
  });
}
function attempts(runId: number) {
  return engine.store.attempts(runId).map((a) => ({ attempt: a.attempt, status: a.status, http: a.http_status, error: a.error }));
}
async function hdcRuns(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a) => void out.push(a.join(' '));
  try {
    assert.is(await runsCommand.run([...args, '--data', dir]), 0);
  } finally {
    console.log = log;
  }
  return out.join('\n');
}
/** Waits for a log line that satisfies `match`. */
function logged(match: (l: Record<string, unknown>) => boolean, ms = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const poll = () => {
      const hit = logLines.find(match);
      if (hit) return resolve(hit);
      if (Date.now() > end) return reject(new Error('no such log line'));
      setTimeout(poll, 20);
    };
    poll();
  });
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-e2e-retries-'));
  [billing, fhir] = await Promise.all([startRestApi({ user: 'u', password: 'p' }), startFhirServer()]);
  // A port with nothing listening: connections are refused before anything is sent.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const plan = buildPlan();
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) logLines.push(JSON.parse(l));
      done();
    },
  });
  events = new RunEvents();
  runtime = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: dir, maxBodyBytes: 1 << 20, requestTimeoutMs: 30_000, shutdownTimeoutMs: 2000,
    logPhi: false, log: pino({ level: 'info' }, stream), mapFields, orderKeyFor, events, journalThread: 'inline', trafficLogIntervalMs: 50,
  });
  engine = new Engine({ db: runtime.db, plan, events, pollMs: 25 });
  engine.start();
  runtime.addService({ stop: () => engine.stop() });
});
test.after(async () => {
  await runtime?.close();
  await Promise.all([billing?.close(), fhir?.close()]);
  rmSync(dir, { recursive: true, force: true });
});
test.before.each(() => {
  billing.clearFaults();
  fhir.clearFaults();
  billing.requests.length = 0;
  fhir.requests.length = 0;
});

test('after_workflow: the first attempt failed and the next is due after the timeout: the commit ACK comes at once', async () => {
  billing.fault({ status: 503, times: 1, method: 'GET' });
  const m = await post('/hl7/slow', 'M1');
  assert.match(m.ack, /\rMSA\|AA\|RT\d+/);
  assert.ok(m.ms < 10_000, `answered after ${Math.round(m.ms)} ms, not after the 20 s timeout`);
  const run = runOf(m.controlId)!;
  assert.is(run.status, 'failed', 'the run goes on: it waits for its next attempt');
  assert.ok(run.next_attempt_at > Date.now() + 30 * 60_000);
  assert.equal(attempts(run.id).map((a) => [a.attempt, a.status, a.http]), [[1, 'failed', 503]]);
});

test('after_workflow: the next attempt is due within the timeout: the ACK waits for the outcome', async () => {
  billing.fault({ status: 503, times: 1, method: 'GET' });
  const m = await post('/hl7/quick', 'M2');
  assert.match(m.ack, /\rMSA\|AA\|RT\d+/);
  const run = runOf(m.controlId)!;
  assert.is(run.status, 'done', 'answered once the second attempt succeeded');
  assert.equal(attempts(run.id).map((a) => [a.attempt, a.status, a.http]), [[1, 'failed', 503], [2, 'done', null]]);

  const rejected = await post('/hl7/quick', 'NOPE');
  assert.match(rejected.ack, /\rMSA\|AE\|RT\d+/);
  assert.match(rejected.ack, /unknown patient NOPE/);
  assert.is(runOf(rejected.controlId)!.status, 'rejected', 'the partner heard the rejection: not a dead letter');
});

test('a rejection after a positive ACK is a dead letter, counted on the traffic line and by hdc runs', async () => {
  const before = logLines.length;
  const m = await post('/hl7/plain', 'NOPE');
  assert.match(m.ack, /\rMSA\|AA\|RT\d+/);
  const run = await settled(m.controlId);
  assert.is(run.status, 'dead');
  assert.is(run.error, 'rejected after acknowledgement (AE)');
  assert.equal(JSON.parse(run.outcome!), { code: 'AE', text: 'unknown patient NOPE' });
  const line = await logged((l) => logLines.indexOf(l) >= before && l.msg === 'hl7 traffic' && l.deadLetters !== undefined);
  assert.equal(line.deadLetters, { 'rejected after acknowledgement': 1 });

  // after_workflow whose timeout passed first: the partner got the commit ACK, so the same.
  billing.fault({ delayMs: 1200, times: 1, method: 'GET' });
  const late = await post('/hl7/tight', 'NOPE');
  assert.match(late.ack, /\rMSA\|AA\|RT\d+/);
  const lateRun = await settled(late.controlId);
  assert.is(lateRun.status, 'dead');
  assert.is(lateRun.error, 'rejected after acknowledgement (AE)');

  const listed = await hdcRuns('--rejected-after-ack');
  assert.equal(listed.split('\n').slice(1, -1).map((l) => Number(l.split(/\s+/)[0])), [lateRun.id, run.id]);
  assert.match(listed, /\ndead letters: \d+ \(2 rejected after acknowledgement\)$/);
  const shown = await hdcRuns('show', String(run.id));
  assert.match(shown, /#1\s+\S+\s+dead\s+\n\s+rejected after acknowledgement \(AE\)/);
  assert.not.match(shown, /unknown patient NOPE/, 'the reject text is masked');
});

test('POST: retried after 429 and after 503 with Retry-After; a bare 503 or a 500 is not repeated', async () => {
  const admissions = () => billing.requests.filter((r) => r.method === 'POST').map((r) => r.status);

  billing.fault({ status: 429, times: 1, method: 'POST' });
  let m = await post('/hl7/post', 'P1');
  let run = await settled(m.controlId);
  assert.is(run.status, 'done', run.error ?? '');
  assert.equal(admissions(), [429, 201]);

  billing.requests.length = 0;
  billing.fault({ status: 503, retryAfter: 1, times: 1, method: 'POST' });
  m = await post('/hl7/post', 'P2');
  run = await settled(m.controlId);
  assert.is(run.status, 'done', run.error ?? '');
  assert.equal(admissions(), [503, 201]);
  const [refused, done] = engine.store.attempts(run.id);
  assert.ok(done.started_at - refused.finished_at >= 950, 'Retry-After is the least wait');

  for (const status of [503, 500]) {
    billing.requests.length = 0;
    billing.fault({ status, times: 1, method: 'POST' });
    m = await post('/hl7/post', `P${status}`);
    run = await settled(m.controlId);
    assert.is(run.status, 'dead');
    assert.is(run.attempts, 1);
    assert.match(run.error!, new RegExp(`POST quick /admissions failed: ${status} .*; not retried, the POST may have been processed$`));
    assert.equal(admissions(), [status]);
  }
});

test('POST: a refused connection (nothing sent) is retried by the API policy', async () => {
  const m = await post('/hl7/nowhere', 'P3');
  const run = await settled(m.controlId);
  assert.is(run.status, 'dead');
  assert.is(run.attempts, 3);
  assert.match(run.error!, /POST gone \/admissions failed: ECONNREFUSED after 3 attempts$/);
  assert.equal(attempts(run.id).map((a) => a.status), ['failed', 'failed', 'dead']);
});

test('FHIR create answered 500 is not repeated; a conditional create is', async () => {
  fhir.fault({ status: 500, times: 1, method: 'POST', pathPrefix: '/fhir/Patient' });
  let m = await post('/hl7/fhir', 'C1');
  let run = await settled(m.controlId);
  assert.is(run.status, 'dead');
  assert.equal(fhir.requests.filter((r) => r.method === 'POST').map((r) => r.status), [500]);

  fhir.requests.length = 0;
  fhir.fault({ status: 500, times: 1, method: 'POST', pathPrefix: '/fhir/Patient' });
  m = await post('/hl7/fhir-cond', 'C2');
  run = await settled(m.controlId);
  assert.is(run.status, 'done', run.error ?? '');
  assert.equal(fhir.requests.filter((r) => r.method === 'POST').map((r) => r.status), [500, 201]);
});

test.run();
