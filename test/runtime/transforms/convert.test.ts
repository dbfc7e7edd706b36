// hdc convert over FHIR-Converter's pairs (../shared/corpus/fhir-converter): the std library's entry
// transforms give valid R4 batch Bundles whose ids follow FHIR-Converter's recipe where the library
// uses it, and the main resources carry the values the expected Bundles hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, mkdtempSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { compileConverter } from '../../../cli/commands/convert.ts';
import { convertMessage, normalizeMessageText } from '../../../runtime/transforms/convert-message.ts';
import { validateFhirResource } from '../../../runtime/workflows/fhir-validation.ts';
import { compareBundles } from '../../../bench/support/fhir-compare.ts';
import { fhirConverterPairsDir } from '../../corpus.ts';

type Bundle = { resourceType: string; type: string; id: string; entry: Array<{ fullUrl: string; resource: Record<string, any>; request: { method: string; url: string } }> };
const { runner, errors } = compileConverter([]);
const pairs = fhirConverterPairsDir();
const read = (type: string, name: string) => ({
  hl7: readFileSync(join(pairs, type, `${name}.hl7`), 'utf8'),
  expected: JSON.parse(readFileSync(join(pairs, type, `${name}.expected.json`), 'utf8')) as Bundle,
});
const convert = (text: string, transform?: string) => convertMessage(text, runner!, { transform }).value as Bundle;

test('the library compiles', () => {
  assert.ok(runner, errors);
});

test('ADT^A01: a batch Bundle with FHIR-Converter\'s Bundle and Patient ids, PUT entries, the patient\'s data', () => {
  const { hl7, expected } = read('ADT_A01', 'ADT01-28');
  const b = convert(hl7);
  assert.is(b.resourceType, 'Bundle');
  assert.is(b.type, 'batch');
  assert.is(b.id, expected.id);
  const patient = b.entry.find((e) => e.resource.resourceType === 'Patient')!;
  const expPatient = expected.entry.find((e) => e.resource.resourceType === 'Patient')!;
  assert.is(patient.resource.id, expPatient.resource.id);
  assert.equal(patient.request, { method: 'PUT', url: `Patient/${patient.resource.id}` });
  assert.is(patient.fullUrl, `urn:uuid:${patient.resource.id}`);
  assert.equal(patient.resource.name, expPatient.resource.name);
  assert.is(patient.resource.gender, 'male');
  assert.is(patient.resource.birthDate, '1961-06-15');
  assert.equal(patient.resource.identifier[0], expPatient.resource.identifier[0]);
  const enc = b.entry.find((e) => e.resource.resourceType === 'Encounter')!.resource;
  assert.equal(enc.class, { code: 'IMP', display: 'inpatient encounter', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode' });
  assert.is(enc.subject.reference, `Patient/${patient.resource.id}`);
});

test('ORU^R01: OBX → Observations (NM as Quantity), OBR → DiagnosticReport whose results are those Observations', () => {
  const b = convert(readFileSync(new URL('../../../examples/hl7-to-fhir/fixtures/oru-r01.hl7', import.meta.url), 'utf8'));
  const obs = b.entry.filter((e) => e.resource.resourceType === 'Observation').map((e) => e.resource);
  assert.is(obs.length, 3);
  assert.equal(obs[0]!.valueQuantity, { value: 95, unit: 'mg/dL', code: 'mg/dL', system: 'http://unitsofmeasure.org' });
  assert.is(obs[0]!.status, 'final');
  assert.is(obs[0]!.effectiveDateTime, '2024-03-16T07:00:00+01:00');
  assert.is(obs[2]!.valueString, 'Sample slightly hemolysed');
  const report = b.entry.find((e) => e.resource.resourceType === 'DiagnosticReport')!.resource;
  assert.equal(report.result.map((r: { reference: string }) => r.reference), obs.map((o) => `Observation/${o.id}`));
  assert.is(report.status, 'final');
});

test('a resent message gives the same Bundle (deterministic ids: PUT updates, never duplicates)', () => {
  const { hl7 } = read('ORU_R01', 'LAB-ORU-1');
  assert.equal(convert(hl7), convert(hl7));
  assert.equal(convert(hl7.replace(/\n/g, '\r')), convert(hl7)); // CR, LF, CRLF alike
});

test('every pair converts to a valid R4 Bundle, and most expected values are there', async () => {
  let leaves = 0;
  let agreeing = 0;
  for (const type of readdirSync(pairs).filter((t) => existsSync(join(pairs, t)) && /^[A-Z]{3}_/.test(t))) {
    for (const f of readdirSync(join(pairs, type)).filter((x) => x.endsWith('.hl7'))) {
      const { hl7, expected } = read(type, f.slice(0, -4));
      const b = convert(hl7, `std.${type}`);
      const problems = await validateFhirResource(b as unknown as Record<string, unknown>);
      assert.equal(problems, [], `${type}/${f}`);
      const c = compareBundles(expected, b);
      leaves += c.expectedLeaves;
      agreeing += c.agreeingLeaves;
    }
  }
  assert.ok(agreeing / leaves > 0.9, `leaf recall ${(agreeing / leaves).toFixed(3)}`); // bench: 0.905
});

test('hdc convert: picks the entry transform by MSH-9, uses a project\'s override, writes -o files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-convert-'));
  const example = new URL('../../../examples/hl7-to-fhir/', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'convert', join(example, 'fixtures/adt-a01.hl7'), '--project', example, '-o', dir],
    { encoding: 'utf8', cwd: new URL('../../../', import.meta.url).pathname });
  assert.is(r.status, 0, r.stderr);
  const b = JSON.parse(readFileSync(join(dir, 'adt-a01.json'), 'utf8')) as Bundle;
  const patient = b.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
  assert.equal(patient.identifier, [{ system: 'urn:acme:mrn', value: 'M12345' }]);
  assert.is(patient.active, true);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'convert', join(example, 'fixtures/adt-a01.hl7'), '--transform', 'nope'],
    { encoding: 'utf8', cwd: new URL('../../../', import.meta.url).pathname });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /unknown transform "nope"/);
});

test('normalizeMessageText drops a byte-order mark and reads LF and CRLF breaks', () => {
  assert.is(normalizeMessageText('\uFEFFMSH|^~\\&|A\r\nPID|1\nPV1|1\n'), 'MSH|^~\\&|A\rPID|1\rPV1|1');
});

test.run();
