// Request bodies checked against the FHIR R4 definitions, loaded piecemeal: every problem of an
// invalid body with its element path; contained resources of other types validated too; the
// definitions of a type read on first use (one entry of the 34 MB file, not all of it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readResourceDefinitions } from '../../../runtime/workflows/fhir-definitions.ts';
import { describeProblems, validateFhirResource } from '../../../runtime/workflows/fhir-validation.ts';

test('a valid resource has no problems', async () => {
  assert.equal(await validateFhirResource({
    resourceType: 'Appointment', status: 'booked', start: '2024-03-20T09:30:00+00:00', end: '2024-03-20T10:00:00+00:00',
    participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }],
  }), []);
});

test('every problem is listed with its element path', async () => {
  const problems = await validateFhirResource({
    resourceType: 'Appointment', status: 'booked', start: '2024-03-20T09:30:00', minutesDuration: 'thirty', participant: [{ status: 'accepted' }],
  });
  const text = describeProblems(problems);
  assert.match(text, /Appointment\.start: Invalid instant format/);
  assert.match(text, /Constraint app-2 not met/);
  assert.match(text, /Appointment\.minutesDuration/);
  assert.ok(problems.every((p) => p.severity === 'error'));
});

test('nulls, unknown properties and bad dates', async () => {
  const text = describeProblems(await validateFhirResource({ resourceType: 'Patient', name: [{ given: [null] }], birthDate: '19800101', nickname: 'x' }));
  assert.match(text, /Patient\.name\[0\]\.given\[0\]: Invalid null value/);
  assert.match(text, /Patient\.birthDate: Invalid date format/);
  assert.match(text, /Invalid additional property "nickname"/);
});

test('contained resources of another type are validated with their own definition', async () => {
  const text = describeProblems(await validateFhirResource({
    resourceType: 'Observation', status: 'final', code: { text: 'glucose' }, subject: { reference: '#p' },
    contained: [{ resourceType: 'Practitioner', id: 'p', birthDate: 'yesterday' }],
  }));
  assert.match(text, /Practitioner\.birthDate: Invalid date format|birthDate.*Invalid date format/);
});

test('definitions are read one type at a time', () => {
  const defs = readResourceDefinitions(['Patient', 'Encounter', 'NoSuchType']);
  assert.equal(defs.map((d) => d.id).sort(), ['DomainResource', 'Encounter', 'Patient', 'Resource']);
  assert.ok(defs.every((d) => d.snapshot?.element?.length));
});

test.run();
