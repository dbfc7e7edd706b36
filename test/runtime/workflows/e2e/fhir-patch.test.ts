// `patch` against the real FHIR peer (medplum router, in memory): the JSON Patch document sent,
// by id and conditional (PATCH [type]?[search]); elements not named are kept; absent values
// send no operation; a failed attempt is repeated safely; errors name the .hdc line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Patient } from '@medplum/fhirtypes';
import { compileSources } from '../../../../compiler/api.ts';
import type { Plan } from '../../../../plan/plan.types.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { enqueue, tempDb, type TempDb } from '../fixtures.ts';

let fhir: FhirServer;
let t: TempDb;

test.before(async () => {
  fhir = await startFhirServer();
});
test.after(async () => {
  await fhir.close();
});
test.before.each(() => {
  t = tempDb();
  fhir.requests.length = 0;
  fhir.clearFaults();
});
test.after.each(() => t.dispose());

/** Compiles a workflow (with the EHR API pointing at the peer) exactly as `hdc compile` would. */
function compile(body: string): Plan {
  const file = 'flows/demographics.hdc';
  const source = `api ehr fhir "${fhir.baseUrl}" { retry 2 backoff 10ms }
sender adt {
  path "/hl7/adt"
  accept ADT^A08
  fields { mrn = PID-3.1  phone = PID-13.1  city = PID-11.3  street = PID-11.1  gender = PID-8 }
  on ADT^A08 run demographics
}
workflow demographics {
${body}
}
`;
  const r = compileSources(new Map([[file, source]]));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.map((d) => `${d.code} ${d.summary}`), []);
  return r.plan!;
}

async function run(plan: Plan, fields: Record<string, unknown>) {
  const events = new RunEvents();
  const engine = new Engine({ db: t.db, plan, events, maxAttempts: 2 });
  engine.start();
  const [id] = enqueue(t.journal, [{ workflow: 'demographics', fields }]);
  const finished = events.waitForFinished(id, 15_000);
  engine.pump();
  const e = await finished;
  await engine.stop();
  const row = t.db.prepare('SELECT error FROM workflow_runs WHERE id = ?').get(id) as { error: string | null };
  return { status: e?.status, error: row.error };
}

async function seedPatient(mrn: string): Promise<Patient> {
  return fhir.repo.createResource<Patient>({
    resourceType: 'Patient',
    identifier: [{ system: 'urn:acme:mrn', value: mrn }],
    name: [{ family: 'Keep', given: ['Ann'] }],
    birthDate: '1961-06-15',
    gender: 'female',
    telecom: [{ system: 'phone', value: '555-0000' }, { system: 'email', value: 'old@example.org' }],
  });
}

const patchRequests = () => fhir.requests.filter((q) => q.method === 'PATCH');

test('patch by id sends JSON Patch add operations for the named elements only', async () => {
  const p = await seedPatient('P1');
  const plan = compile(`
  found = search ehr Patient { identifier: "urn:acme:mrn|{mrn}" }
  patched = patch ehr Patient found.entry[0].resource.id body {
    telecom: [{ system: "phone", value: phone, use: "home" }],
    address: [{ line: [street], city: city }],
    gender: gender
  }`);
  const r = await run(plan, { mrn: 'P1', phone: '555-1234', city: 'Springfield', street: null, gender: null });
  assert.is(r.status, 'done', r.error ?? '');
  const [req] = patchRequests();
  assert.ok(req);
  assert.is(req.path, `/fhir/Patient/${p.id}`);
  assert.is(req.headers['content-type'], 'application/json-patch+json');
  // street and gender are absent: no empty line list, no gender operation.
  assert.equal(req.body, [
    { op: 'add', path: '/telecom', value: [{ system: 'phone', value: '555-1234', use: 'home' }] },
    { op: 'add', path: '/address', value: [{ city: 'Springfield' }] },
  ]);
  const after = await fhir.repo.readResource<Patient>('Patient', p.id!);
  assert.equal(after.telecom, [{ system: 'phone', value: '555-1234', use: 'home' }]);
  assert.equal(after.address, [{ city: 'Springfield' }]);
  // Everything the patch did not name is as it was.
  assert.equal(after.name, [{ family: 'Keep', given: ['Ann'] }]);
  assert.is(after.birthDate, '1961-06-15');
  assert.is(after.gender, 'female');
});

test('conditional patch uses PATCH [type]?[search]', async () => {
  const p = await seedPatient('P2');
  await seedPatient('OTHER');
  const plan = compile(`
  patch ehr Patient where { identifier: "urn:acme:mrn|{mrn}" } body { telecom: [{ system: "phone", value: phone }] }`);
  const r = await run(plan, { mrn: 'P2', phone: '555-2222' });
  assert.is(r.status, 'done', r.error ?? '');
  const [req] = patchRequests();
  assert.is(req.path, '/fhir/Patient');
  assert.equal(req.query, { identifier: 'urn:acme:mrn|P2' });
  assert.equal(req.body, [{ op: 'add', path: '/telecom', value: [{ system: 'phone', value: '555-2222' }] }]);
  const after = await fhir.repo.readResource<Patient>('Patient', p.id!);
  assert.equal(after.telecom, [{ system: 'phone', value: '555-2222' }]);
  assert.equal(after.name, [{ family: 'Keep', given: ['Ann'] }]);
});

test('a conditional patch that matches nothing fails the run with the .hdc line', async () => {
  await seedPatient('P3');
  const plan = compile(`
  patch ehr Patient where { identifier: "urn:acme:mrn|{mrn}" } body { active: true }`);
  const r = await run(plan, { mrn: 'NOBODY' });
  assert.is(r.status, 'dead');
  assert.match(r.error ?? '', /PATCH ehr Patient failed: 4\d\d/);
  assert.match(r.error ?? '', /flows\/demographics\.hdc:10/);
});

test('a patch whose first attempt fails with 500 is sent again, the same document', async () => {
  const p = await seedPatient('P4');
  fhir.fault({ status: 500, times: 1, method: 'PATCH' });
  const plan = compile(`
  patch ehr Patient where { identifier: "urn:acme:mrn|{mrn}" } body { active: false, telecom: [{ system: "phone", value: phone }] }`);
  const r = await run(plan, { mrn: 'P4', phone: '555-4444' });
  assert.is(r.status, 'done', r.error ?? '');
  const sent = patchRequests();
  assert.is(sent.length, 2);
  assert.equal(sent[0].body, sent[1].body);
  assert.equal(sent[1].body, [
    { op: 'add', path: '/active', value: false },
    { op: 'add', path: '/telecom', value: [{ system: 'phone', value: '555-4444' }] },
  ]);
  const after = await fhir.repo.readResource<Patient>('Patient', p.id!);
  assert.is(after.active, false);
});

test('a body that is not an object of elements fails the step before anything is sent', async () => {
  await seedPatient('P5');
  const plan = compile(`
  let changes = [1, 2]
  patch ehr Patient where { identifier: "urn:acme:mrn|{mrn}" } body changes`);
  const r = await run(plan, { mrn: 'P5' });
  assert.is(r.status, 'dead');
  assert.match(r.error ?? '', /patch Patient: the body is not an object of elements/);
  assert.match(r.error ?? '', /flows\/demographics\.hdc:11/);
  assert.is(patchRequests().length, 0);
});

test.run();
