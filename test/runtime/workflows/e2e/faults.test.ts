// Faults from real peers, through the engine: 503 then 200, 429 with Retry-After, a timeout,
// a POST answered 500 (not repeated; dead letter; replayed), an API down for good (dead letter
// after the API's `retry` attempts; replay resumes without repeating finished steps), and a token
// that expires between runs. Each retry is a run attempt of its own, recorded in its history.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../../../../plan/plan.types.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { startAuthServer, type AuthServer } from '../../../peers/auth-server.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { startRestApi, type RestApi } from '../../../peers/rest-api.ts';
import { api, enqueue, lit, obj, op, plan, ref, src, tempDb, tpl, workflow, type TempDb } from '../fixtures.ts';

let fhir: FhirServer;
let auth: AuthServer;
let billing: RestApi;
let t: TempDb;
let engine: Engine;
let events: RunEvents;
let p: Plan;

const enc = (...path: Array<string | number>) => ref('encounter', 'entry', 0, 'resource', ...path);

/** Waits for the run's next `finished` event (a replayed run settles again). */
async function settle(id: number, ms = 20_000) {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run ${id} did not settle`)), ms);
    const on = (e: { runId: number }) => {
      if (e.runId !== id) return;
      clearTimeout(timer);
      events.off('finished', on);
      resolve();
    };
    events.on('finished', on);
  });
  return t.db.prepare('SELECT id, status, attempts, error FROM workflow_runs WHERE id = ?').get(id) as { id: number; status: string; attempts: number; error: string | null };
}
const calls = (server: { requests: Array<{ method: string; path: string; status?: number }> }, path: string) =>
  server.requests.filter((r) => r.path.endsWith(path)).map((r) => r.status);

test.before(async () => {
  [fhir, billing] = await Promise.all([startFhirServer(), startRestApi({ user: 'u', password: 'p' })]);
  auth = await startAuthServer({ fhirBase: fhir.baseUrl, accessTokenTtl: 2, clients: [{ clientId: 'c', clientSecret: 's3cret', auth: 'client_secret_post' }] });
  fhir.attachAuth({ verifyToken: (tok) => auth.verifyAccessToken(tok) });
  const patient = (await fhir.repo.createResource({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: 'F1' }] } as never)) as { id: string };
  await fhir.repo.createResource({ resourceType: 'Encounter', status: 'in-progress', class: { code: 'IMP' }, subject: { reference: `Patient/${patient.id}` }, period: { start: '2024-01-01', end: '2024-01-03' } } as never);
  p = plan({
    auths: [
      { name: 'ehr_auth', kind: 'oauth2', clientAuth: 'client_secret_post', clientId: 'c', clientSecret: 's3cret', tokenUrl: auth.tokenEndpoint, scope: 'system/Patient.rs system/Encounter.rs', src: src(1) },
      { name: 'bill_auth', kind: 'basic', user: 'u', password: 'p', src: src(1) },
    ],
    apis: [
      api('ehr', 'fhir', fhir.baseUrl, { auth: 'ehr_auth', timeoutMs: 400, retry: { attempts: 3, backoffMs: 20 } }),
      api('billing', 'rest', billing.baseUrl, { auth: 'bill_auth', timeoutMs: 2000, retry: { attempts: 3, backoffMs: 20 } }),
    ],
    workflows: [
      workflow('admit', [
        { id: 'patient', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Patient', params: obj({ identifier: tpl('urn:mrn|', ref('mrn')) }), src: src(10) },
        { id: 'encounter', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Encounter', params: obj({ patient: tpl('Patient/', ref('patient', 'entry', 0, 'resource', 'id')), status: lit('in-progress') }), src: src(11) },
        { id: 'charges', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: lit('/charges'), query: obj({ encounter: enc('id'), from: enc('period', 'start'), to: enc('period', 'end') }), src: src(12) },
        { id: 'ok', kind: 'if', cond: op('>', ref('charges', 'total'), lit(0)), then: [
          { id: 'admission', kind: 'rest', api: 'billing', method: 'POST', urlPath: lit('/admissions'), body: obj({ mrn: ref('mrn'), total: ref('charges', 'total') }), src: src(14) },
        ], src: src(13) },
      ]),
    ],
  });
});
test.after(async () => {
  await Promise.all([auth.close(), fhir.close(), billing.close()]);
});
test.before.each(() => {
  t = tempDb();
  events = new RunEvents();
  engine = new Engine({ db: t.db, plan: p, events, pollMs: 25 });
  engine.start();
  fhir.requests.length = 0;
  billing.requests.length = 0;
  fhir.clearFaults();
  billing.clearFaults();
});
test.after.each(async () => {
  await engine.stop();
  t.dispose();
});
const start = () => {
  const [id] = enqueue(t.journal, [{ workflow: 'admit', fields: { mrn: 'F1' } }]);
  engine.pump();
  return id;
};

test('FHIR answers 503 then 200: the search is retried and the run completes', async () => {
  fhir.fault({ status: 503, times: 1, pathPrefix: '/fhir/Encounter' });
  const run = await settle(start());
  assert.is(run.status, 'done', run.error ?? '');
  assert.equal(calls(fhir, '/Encounter'), [503, 200]);
  // (On a loaded machine a search may also outlast the 400 ms timeout: one more attempt, recorded.)
  const history = engine.store.attempts(run.id).map((a) => [a.attempt, a.status, a.api, a.http_status]);
  assert.is(run.attempts, history.length);
  assert.equal(history.find((a) => a[3] === 503), [history.findIndex((a) => a[3] === 503) + 1, 'failed', 'ehr', 503]);
  assert.equal(history.at(-1), [run.attempts, 'done', null, null]);
  assert.is(calls(fhir, '/Patient').filter((s) => s === 200).length, 1, 'the finished search is not repeated');
});

test('429 with Retry-After: the request waits as told', async () => {
  billing.fault({ status: 429, retryAfter: 1, times: 1, method: 'GET' });
  const run = await settle(start());
  assert.is(run.status, 'done', run.error ?? '');
  const charges = billing.requests.filter((r) => r.path === '/api/charges');
  assert.equal(charges.map((r) => r.status), [429, 200]);
  assert.ok(charges[1].at - charges[0].at >= 950, `waited ${charges[1].at - charges[0].at} ms`);
});

test('a request that times out is retried', async () => {
  fhir.fault({ delayMs: 1500, times: 1, pathPrefix: '/fhir/Patient' });
  const run = await settle(start());
  assert.is(run.status, 'done', run.error ?? '');
  assert.ok(fhir.requests.filter((r) => r.path === '/fhir/Patient').length >= 2);
  const history = engine.store.attempts(run.id);
  assert.is(history[0].status, 'failed');
  assert.match(history[0].error!, /GET ehr Patient failed: timed out after 400 ms/);
  assert.is(history.at(-1)!.status, 'done');
});

test('a POST answered 500 is not repeated: dead letter; replay sends it once more', async () => {
  billing.fault({ status: 500, times: 1, method: 'POST' });
  const id = start();
  const run = await settle(id);
  assert.is(run.status, 'dead');
  assert.is(run.attempts, 1);
  assert.is(run.error, 'flows/admit.hdc:14: POST billing /admissions failed: 500 Internal Server Error; not retried, the POST may have been processed');
  assert.equal(calls(billing, '/admissions'), [500]);
  const before = fhir.requests.length;
  assert.ok(engine.store.replay(id, Date.now()));
  engine.pump();
  assert.is((await settle(id)).status, 'done');
  assert.equal(calls(billing, '/admissions'), [500, 201]);
  assert.is(fhir.requests.length, before, 'finished FHIR steps are not repeated');
});

test('an API down for good: the run retries, becomes a dead letter, and replay resumes it', async () => {
  billing.fault({ status: 503, times: Infinity, method: 'GET' });
  const id = start();
  const run = await settle(id);
  assert.is(run.status, 'dead');
  assert.is(run.attempts, 3);
  assert.match(run.error!, /^flows\/admit\.hdc:12: GET billing \/charges failed: 503 Service Unavailable after 3 attempts$/);
  assert.is(calls(billing, '/charges').length, 3);
  billing.clearFaults();
  const fhirBefore = fhir.requests.length;
  engine.store.replay(id, Date.now());
  engine.pump();
  assert.is((await settle(id)).status, 'done');
  assert.is(fhir.requests.length, fhirBefore);
});

test('a token that expired between runs is renewed; the FHIR server saw only valid tokens', async () => {
  assert.is((await settle(start())).status, 'done');
  const before = auth.tokenRequests;
  await new Promise((r) => setTimeout(r, 2100));
  assert.is((await settle(start())).status, 'done');
  assert.is(auth.tokenRequests - before, 1);
  assert.not.ok(fhir.requests.some((r) => r.status === 401));
});

test.run();
