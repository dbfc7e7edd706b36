// The canonical chain end to end, against real peers on loopback: an HL7 ADT^A01 posted to the
// listener → patient lookup by identifier on a Synthea-seeded FHIR server (SMART Backend Services
// token, ES384 key read from a file, token endpoint discovered from a smart-configuration without
// issuer) → if found, the in-progress Encounter → charges for that Encounter's period from a REST
// API with Basic auth → store → POST the admission. An unknown patient is rejected, and with
// `ack after_workflow` the sender gets AE with the workflow's text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import got from 'got';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Expr, Plan, Step } from '../../../../plan/plan.types.ts';
import { withPlanHash } from '../../../../plan/plan-hash.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { silentLogger } from '../../../../runtime/platform/log/logger.ts';
import { mapFields } from '../../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../../runtime/inbound/order-key.ts';
import { startRuntime, type Runtime } from '../../../../runtime/platform/start-runtime.ts';
import { startAuthServer, type AuthServer } from '../../../peers/auth-server.ts';
import { testKeyPair } from '../../../peers/client-keys.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { chargesFor, startRestApi, type RestApi } from '../../../peers/rest-api.ts';
import { smartConfigurationFor } from '../../../peers/smart-configuration.ts';
import { syntheaPatients, type SyntheaPatient } from '../../../peers/synthea.ts';
import { field, sender } from '../../inbound/helpers.ts';

const S = (line: number) => `flows/admit.hdc:${line}:3-${line}:60`;
const ref = (name: string, ...path: Array<string | number>): Expr => (path.length ? { ref: name, path } : { ref: name });
const obj = (e: Record<string, Expr>): Expr => ({ object: Object.entries(e).map(([key, value]) => ({ key, value })) });
const enc = (...p: Array<string | number>) => ref('encounter', 'entry', 0, 'resource', ...p);

let fhir: FhirServer;
let auth: AuthServer;
let billing: RestApi;
let runtime: Runtime;
let engine: Engine;
let events: RunEvents;
let dir: string;
let patient: SyntheaPatient;
let encounterId: string;
const period = { start: '2024-03-15T08:00:00Z', end: '2024-03-16T12:30:00Z' };

function buildPlan(mrnSystem: string, keyFile: string, kid: string): Plan {
  const steps: Step[] = [
    { id: 'patient', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Patient', params: obj({ identifier: { template: [mrnSystem, '|', ref('mrn')] } }), src: S(3) },
    { id: 'found', kind: 'if', cond: { op: '==', args: [ref('patient', 'total'), { lit: 0 }] }, then: [{ id: 'unknown', kind: 'reject', code: 'AE', text: { template: ['unknown patient ', ref('mrn')] }, src: S(4) }], src: S(4) },
    { id: 'encounter', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Encounter', params: obj({ patient: { template: ['Patient/', ref('patient', 'entry', 0, 'resource', 'id')] }, status: { lit: 'in-progress' } }), src: S(5) },
    { id: 'charges', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: { lit: '/charges' }, query: obj({ encounter: enc('id'), from: enc('period', 'start'), to: enc('period', 'end') }), src: S(6) },
    { id: 'keep', kind: 'store', collection: 'admissions', key: ref('mrn'), value: obj({ mrn: ref('mrn'), control: ref('message', 'controlId'), total: ref('charges', 'total') }), src: S(8) },
    { id: 'admission', named: true, kind: 'rest', api: 'billing', method: 'POST', urlPath: { lit: '/admissions' }, body: obj({ mrn: ref('mrn'), encounter: enc('id'), total: ref('charges', 'total'), status: ref('charges', '$status') }), src: S(9) },
  ];
  return withPlanHash({
    planVersion: 1,
    compiler: 'hdc test',
    sources: [],
    auths: [
      { name: 'ehr_backend', kind: 'smart_backend', clientId: { env: 'E2E_CLIENT_ID', src: S(20) }, clientAuth: 'private_key_jwt', privateKey: { file: keyFile, src: S(21) }, kid, alg: 'ES384', scope: 'system/Patient.rs system/Encounter.rs', src: S(19) },
      { name: 'billing_basic', kind: 'basic', user: { env: 'E2E_BILLING_USER', src: S(23) }, password: { env: 'E2E_BILLING_PASS', src: S(23) }, src: S(23) },
    ],
    apis: [
      { name: 'ehr', kind: 'fhir', baseUrl: fhir.baseUrl, auth: 'ehr_backend', timeoutMs: 5000, retry: { attempts: 3, backoffMs: 20 }, src: S(25) },
      { name: 'billing', kind: 'rest', baseUrl: billing.baseUrl, auth: 'billing_basic', format: 'json', timeoutMs: 5000, retry: { attempts: 3, backoffMs: 20 }, src: S(26) },
    ],
    senders: [
      sender({ name: 'lab', path: '/hl7/lab', accept: [{ code: 'ADT', trigger: 'A01' }], fields: [field('mrn', 'PID-3.1')], routes: [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'admit', src: S(30) }] }),
      sender({ name: 'er', path: '/hl7/er', accept: [{ code: 'ADT', trigger: 'A01' }], ack: { mode: 'after_workflow', timeoutMs: 10_000 }, fields: [field('mrn', 'PID-3.1')], routes: [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'admit', src: S(31) }] }),
    ],
    workflows: [{ name: 'admit', inputs: ['mrn'], steps, src: S(2) }],
    launches: [],
    tests: [],
  });
}

let control = 0;
function adt(mrn: string): string {
  return [`MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|E2E${++control}|P|2.5.1`, `PID|1||${mrn}^^^ACME^MR||Doe^Jane`, 'PV1|1|I'].join('\r') + '\r';
}
async function post(path: string, body: string): Promise<string> {
  const res = await got.post(runtime.url + path, { body, headers: { 'content-type': 'application/hl7-v2; charset=utf-8' }, throwHttpErrors: false });
  assert.is(res.statusCode, 200);
  return res.body;
}
function runOf(messageControl: string) {
  return runtime.db.prepare(`SELECT r.* FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id = ?`).get(messageControl) as { id: number; status: string; error: string | null; outcome: string | null } | undefined;
}
async function settled(controlId: string, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = runOf(controlId);
    if (r && ['done', 'rejected', 'dead'].includes(r.status)) return r;
    if (Date.now() > end) throw new Error(`run for ${controlId} not settled: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-e2e-chain-'));
  const key = await testKeyPair('ES384', 'e2e-connector');
  const keyFile = join(dir, 'connector-es384.pem');
  writeFileSync(keyFile, key.privatePem + '\n');
  [fhir, billing] = await Promise.all([startFhirServer({ seed: 'synthea' }), startRestApi({ user: 'hdc', password: 'billing-pass' })]);
  auth = await startAuthServer({ fhirBase: fhir.baseUrl, clients: [{ clientId: 'connector', jwks: { keys: [key.publicJwk] }, auth: 'private_key_jwt', assertionAlg: 'ES384' }] });
  fhir.attachAuth({ verifyToken: (t) => auth.verifyAccessToken(t), smartConfig: smartConfigurationFor(auth, { omitIssuer: true }) });
  patient = syntheaPatients().find((p) => p.mrn.value)!;
  const created = await fhir.repo.createResource({
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: `Patient/${patient.id}` },
    period,
  } as never);
  encounterId = (created as { id: string }).id;
  process.env.E2E_CLIENT_ID = 'connector';
  process.env.E2E_BILLING_USER = 'hdc';
  process.env.E2E_BILLING_PASS = 'billing-pass';
  const plan = buildPlan(patient.mrn.system, keyFile, key.kid);
  events = new RunEvents();
  runtime = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: dir, maxBodyBytes: 1 << 20, requestTimeoutMs: 10_000, shutdownTimeoutMs: 2000,
    logPhi: false, log: silentLogger(), mapFields, orderKeyFor, events, journalThread: 'inline',
  });
  engine = new Engine({ db: runtime.db, plan, events });
  engine.start();
  runtime.addService({ stop: () => engine.stop() });
});

test.after(async () => {
  await runtime?.close();
  await Promise.all([auth?.close(), fhir?.close(), billing?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test('patient → in-progress encounter → charges for its period → store → admission', async () => {
  fhir.requests.length = 0;
  const ack = await post('/hl7/lab', adt(patient.mrn.value));
  assert.match(ack, /\rMSA\|AA\|E2E\d+/);
  const controlId = `E2E${control}`;
  const run = await settled(controlId);
  assert.is(run.status, 'done', run.error ?? '');

  const searches = fhir.requests.filter((r) => r.method === 'GET' && /\/(Patient|Encounter)$/.test(r.path));
  assert.equal(searches.map((r) => [r.path, r.query, r.auth]), [
    ['/fhir/Patient', { identifier: `${patient.mrn.system}|${patient.mrn.value}` }, 'Bearer'],
    ['/fhir/Encounter', { patient: `Patient/${patient.id}`, status: 'in-progress' }, 'Bearer'],
  ]);
  assert.ok(fhir.requests.some((r) => r.path === '/fhir/.well-known/smart-configuration'), 'token endpoint discovered');

  const chargeCall = billing.requests.find((r) => r.method === 'GET' && r.path === '/api/charges')!;
  assert.equal(chargeCall.query, { encounter: encounterId, from: period.start, to: period.end });
  assert.is(chargeCall.auth, 'Basic');
  const expected = chargesFor(encounterId, period.start, period.end);
  assert.is(billing.admissions.length, 1);
  assert.equal(
    { mrn: billing.admissions[0].mrn, encounter: billing.admissions[0].encounter, total: billing.admissions[0].total, status: billing.admissions[0].status },
    { mrn: patient.mrn.value, encounter: encounterId, total: expected.total, status: 200 },
  );
  assert.equal(engine.store.records('admissions').map((r) => r.value), [{ mrn: patient.mrn.value, control: controlId, total: expected.total }]);
  assert.is(auth.tokenRequests, 1);
});

test('a second message reuses the cached token', async () => {
  const before = auth.tokenRequests;
  await post('/hl7/lab', adt(patient.mrn.value));
  const run = await settled(`E2E${control}`);
  assert.is(run.status, 'done');
  assert.is(auth.tokenRequests, before);
  assert.is(billing.admissions.length, 2);
});

test('unknown patient: rejected; with ack after_workflow the sender gets AE and the text', async () => {
  const admissions = billing.admissions.length;
  const ack = await post('/hl7/er', adt('NO-SUCH-MRN'));
  assert.match(ack, /\rMSA\|AE\|E2E\d+/);
  assert.match(ack, /unknown patient NO-SUCH-MRN/);
  const run = await settled(`E2E${control}`);
  assert.is(run.status, 'rejected');
  assert.equal(JSON.parse(run.outcome!), { code: 'AE', text: 'unknown patient NO-SUCH-MRN' });
  assert.is(billing.admissions.length, admissions);
});

test('a known patient through the after_workflow sender gets AA once the chain is done', async () => {
  const ack = await post('/hl7/er', adt(patient.mrn.value));
  assert.match(ack, /\rMSA\|AA\|E2E\d+/);
  assert.is(runOf(`E2E${control}`)!.status, 'done');
});

test.run();
