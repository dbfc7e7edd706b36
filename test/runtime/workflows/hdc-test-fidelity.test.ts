// `hdc test` tests what production does: fixture bytes reach the listener untouched (no line-ending
// rewriting, no re-decoding), so a fixture production would misread fails here too, with a hint;
// FHIR bodies are validated by default (`validate none` opts out) and are seen by `expect request`
// as sent, stripped of empty values; the most specific mock answers; a failed `expect request`
// lists the requests made with their bodies.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../../compiler/api.ts';
import { formatText, summarize } from '../../../runtime/testing/report.ts';
import { runPlanTests, type TestResult } from '../../../runtime/testing/run-tests.ts';

let dir: string;

const SEGMENTS = ['MSH|^~\\&|PAS|HOSP|HDC|EHR|20240320093000||ADT^A08|C1|P|2.3', 'PID|1||M100^^^HOSP^MR||Müller^Anna||19800101'];

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-test-fidelity-'));
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'fixtures', 'a08-lf.hl7'), SEGMENTS.join('\n') + '\n');
  writeFileSync(join(dir, 'fixtures', 'a08-cr.hl7'), SEGMENTS.join('\r') + '\r');
  writeFileSync(join(dir, 'fixtures', 'a08-latin1.hl7'), Buffer.from(SEGMENTS.join('\r') + '\r', 'latin1'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function senderBlock(name: string, settings: string, workflow = 'update_patient'): string {
  return `
sender ${name} {
  path "/hl7/${name}"
  version "2.3"
  accept ADT^A08
  ${settings}
  fields {
    mrn = PID-3.1
    family = PID-5.1
    given = PID-5.2
    middle = PID-5.3
    birth_date = PID-7 as date
    birth_as_sent = PID-7
  }
  on ADT^A08 run ${workflow}
}
`;
}

const APIS = (validate = '') => `
api ehr fhir "https://ehr.example.org/R4" { ${validate} }
api sched rest "https://sched.example.org/api" { format json }
`;

const WORKFLOWS = `
workflow update_patient {
  found = search ehr Patient { identifier: "urn:hosp|{mrn}" }
  patient = create ehr Patient body {
    identifier: [{ system: "urn:hosp", value: mrn }],
    name: [{ family: family, given: [given, middle] }],
    birthDate: birth_date
  }
  post sched "/patients" body { id: patient.id, found: found.total }
}
`;

const RAW_WORKFLOW = `
workflow register_raw {
  patient = create ehr Patient body { birthDate: birth_as_sent }
}
`;

async function run(hdc: string, filter?: string): Promise<{ results: TestResult[]; text: string }> {
  const compiled = compileSources(new Map([['tests.hdc', hdc]]), { fileExists: (p) => existsSync(join(dir, p)) });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.map((e) => `${e.code} ${e.summary}`), []);
  const results = await runPlanTests(compiled.plan!, { workDir: dir, timeoutMs: 15_000, ...(filter ? { filter } : {}) });
  return { results, text: formatText(results, summarize(results, 0)) };
}

const STANDARD_MOCKS = `
  mock ehr Patient returns { resourceType: "Bundle", type: "searchset", total: 0, entry: [] }
  mock ehr post "/Patient" returns { resourceType: "Patient", id: "p1" } status 201
  mock sched post "/patients" returns { ok: true }`;

test('an LF fixture to a sender that accepts CR only fails as in production, with a hint; declared LF passes', async () => {
  const hdc = APIS() + senderBlock('cr_only', '') + senderBlock('lf_partner', 'line_endings lf') + WORKFLOWS + `
test "lf to cr_only" {
  send file("fixtures/a08-lf.hl7") to cr_only
  ${STANDARD_MOCKS}
  expect ack AA
  expect field mrn == "M100"
}
test "lf to lf_partner" {
  send file("fixtures/a08-lf.hl7") to lf_partner
  ${STANDARD_MOCKS}
  expect ack AA
  expect field mrn == "M100"
}
test "cr to cr_only" {
  send file("fixtures/a08-cr.hl7") to cr_only
  ${STANDARD_MOCKS}
  expect field mrn == "M100"
}
`;
  const { results, text } = await run(hdc);
  assert.equal(results.map((r) => [r.name, r.status]), [['lf to cr_only', 'failed'], ['lf to lf_partner', 'passed'], ['cr to cr_only', 'passed']], text);
  const messages = results[0]!.failures.map((f) => f.message).join('\n');
  assert.match(results[0]!.failures[0]!.message, /^the fixture's segments end with LF/, 'the likely cause comes first');
  assert.match(messages, /the fixture's segments end with LF, but sender cr_only accepts CR only \(line_endings cr\)/);
  assert.match(messages, /declare `line_endings lf` \(or any\)/);
  assert.match(text, /tests\.hdc:\d+: the fixture's segments end with LF/);
});

test('fixture bytes are decoded by the listener: a Latin-1 file with the sender charset keeps its letters', async () => {
  const hdc = APIS() + senderBlock('latin', 'charset "ISO-8859-1"') + WORKFLOWS + `
test "latin-1 fixture" {
  send file("fixtures/a08-latin1.hl7") to latin
  ${STANDARD_MOCKS}
  expect ack AA
  expect field family == "Müller"
  expect request ehr post "/Patient" where request.body.name[0].family == "Müller"
}
`;
  const { results, text } = await run(hdc);
  assert.is(results[0]!.status, 'passed', text);
});

test('bodies are checked against FHIR R4 by default; `validate none` opts out', async () => {
  const tests = `
test "raw birth date" {
  send file("fixtures/a08-cr.hl7") to raw
  mock ehr post "/Patient" returns { resourceType: "Patient", id: "p1" } status 201
  expect ack AA
}
`;
  const checked = await run(APIS() + senderBlock('raw', '', 'register_raw') + RAW_WORKFLOW + tests);
  assert.is(checked.results[0]!.status, 'failed', checked.text);
  assert.match(checked.text, /workflow register_raw failed: tests\.hdc:\d+: create Patient: the body is not valid FHIR R4 \(1 problem\): Patient\.birthDate: Invalid date format/);

  const unchecked = await run(APIS('validate none') + senderBlock('raw', '', 'register_raw') + RAW_WORKFLOW + tests);
  assert.is(unchecked.results[0]!.status, 'passed', unchecked.text);
});

test('expect request sees the body as sent: absent fields leave no nulls or empty values', async () => {
  const hdc = APIS() + senderBlock('p', '') + WORKFLOWS + `
test "stripped" {
  send file("fixtures/a08-cr.hl7") to p
  ${STANDARD_MOCKS}
  expect request ehr post "/Patient" where count(request.body.name[0].given) == 1 and request.body.name[0].given[0] == "Anna"
  expect request ehr post "/Patient" where request.body.birthDate == "1980-01-01" and not exists(request.body.telecom)
}
`;
  const { results, text } = await run(hdc);
  assert.is(results[0]!.status, 'passed', text);
});

test('mock precedence: a step mock wins, then the mock naming the most; ties go to the first declared', async () => {
  const hdc = APIS() + senderBlock('p', '') + WORKFLOWS + `
test "precedence" {
  send file("fixtures/a08-cr.hl7") to p
  mock ehr Patient returns { resourceType: "Bundle", type: "searchset", total: 1, entry: [] }
  mock ehr "/Patient" returns { resourceType: "Bundle", type: "searchset", total: 2, entry: [] }
  mock step found returns { resourceType: "Bundle", type: "searchset", total: 3, entry: [] }
  mock ehr post "/Patient" returns { resourceType: "Patient", id: "from-method-and-path" } status 201
  mock sched post "/patients" returns { ok: true }
  expect request sched post "/patients" where request.body.found == 3 and request.body.id == "from-method-and-path"
}
test "tie" {
  send file("fixtures/a08-cr.hl7") to p
  mock ehr Patient returns { resourceType: "Bundle", type: "searchset", total: 1, entry: [] }
  mock ehr "/Patient" returns { resourceType: "Bundle", type: "searchset", total: 2, entry: [] }
  mock sched "/patients" returns { ok: true }
  expect request sched post "/patients" where request.body.found == 1
}
`;
  const { results, text } = await run(hdc);
  assert.equal(results.map((r) => r.status), ['passed', 'passed'], text);
});

test('a failed expect request lists the requests made, with their bodies', async () => {
  const hdc = APIS() + senderBlock('p', '') + WORKFLOWS + `
test "wrong total" {
  send file("fixtures/a08-cr.hl7") to p
  ${STANDARD_MOCKS}
  expect request sched post "/patients" where request.body.found == 99
  expect request sched put "/elsewhere"
}
`;
  const { results, text } = await run(hdc);
  assert.is(results[0]!.status, 'failed');
  assert.match(text, /tests\.hdc:\d+: 1 request\(s\) to sched POST \/patients were made, none where the condition holds; they were:\n {8}POST sched \/patients \{"id":"p1","found":0\} → 200/);
  assert.match(text, /tests\.hdc:\d+: no request to sched PUT \/elsewhere; requests made:\n {8}GET ehr \/Patient\?identifier=urn%3Ahosp%7CM100 → 200\n {8}POST ehr \/Patient \{"resourceType":"Patient","identifier":\[\{"system":"urn:hosp","value":"M100"\}\],"name":\[\{"family":"Müller","given":\["Anna"\]\}\],"birthDate":"1980-01-01"\} → 201\n {8}POST sched \/patients/);
});

test.run();
