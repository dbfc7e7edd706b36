// The FHIR peer's PATCH: JSON Patch by id and conditional (PATCH [type]?[search]), refused without
// the JSON Patch media type, and errors for a conditional patch matching none or several.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Patient } from '@medplum/fhirtypes';
import { startFhirServer, type FhirServer } from '../peers/fhir-server.ts';

let fhir: FhirServer;

test.before(async () => {
  fhir = await startFhirServer();
});
test.after(() => fhir.close());

const patch = (path: string, ops: unknown, type = 'application/json-patch+json') =>
  fetch(`${fhir.baseUrl}/${path}`, { method: 'PATCH', headers: { 'content-type': type }, body: JSON.stringify(ops) });

const seed = (mrn: string) =>
  fhir.repo.createResource<Patient>({ resourceType: 'Patient', identifier: [{ system: 'urn:t', value: mrn }], name: [{ family: 'Same' }], active: true });

test('PATCH by id applies add operations and keeps the rest', async () => {
  const p = await seed('A');
  const res = await patch(`Patient/${p.id}`, [{ op: 'add', path: '/telecom', value: [{ system: 'phone', value: '1' }] }, { op: 'add', path: '/active', value: false }]);
  assert.is(res.status, 200);
  const body = (await res.json()) as Patient;
  assert.equal(body.telecom, [{ system: 'phone', value: '1' }]);
  assert.is(body.active, false);
  assert.equal(body.name, [{ family: 'Same' }]);
});

test('conditional PATCH patches the one match; none or several are errors', async () => {
  const p = await seed('B');
  const one = await patch('Patient?identifier=urn:t|B', [{ op: 'add', path: '/gender', value: 'other' }]);
  assert.is(one.status, 200);
  assert.is((await fhir.repo.readResource<Patient>('Patient', p.id!)).gender, 'other');
  const none = await patch('Patient?identifier=urn:t|NOBODY', [{ op: 'add', path: '/gender', value: 'other' }]);
  assert.ok(none.status >= 400, String(none.status));
  await seed('C');
  await seed('C');
  const many = await patch('Patient?identifier=urn:t|C', [{ op: 'add', path: '/gender', value: 'other' }]);
  assert.ok(many.status >= 400, String(many.status));
});

test('PATCH without the JSON Patch media type is 415', async () => {
  const p = await seed('D');
  const res = await patch(`Patient/${p.id}`, [{ op: 'add', path: '/active', value: false }], 'application/fhir+json');
  assert.is(res.status, 415);
  assert.is((await fhir.repo.readResource<Patient>('Patient', p.id!)).active, true);
});

test.run();
