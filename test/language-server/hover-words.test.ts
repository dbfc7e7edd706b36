// Hover on the language's own words and on loop variables over each groups, and the links to the
// specification of the version in use, against the real server over stdio.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hover } from 'vscode-languageserver/node.js';
import { LspClient } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-hover-words-'));
let client: LspClient;

const files: Record<string, string> = {
  'apis.hdc': `auth ehr_backend smart_backend {
  client_id env("EHR_CLIENT_ID")
  private_key file("keys/ehr.pem")
}

api ehr fhir "https://ehr.example.org/R4" { auth ehr_backend }
`,
  'lab.hdc': `import "apis.hdc"

sender lab {
  path "/hl7/lab"
  version "2.3"
  accept ORU^R01
  fields {
    mrn = PID-3.1
    results = each OBX { code = OBX-3.1, value = OBX-5 }
  }
  on ORU^R01 run file_results
}

workflow file_results {
  patient = search ehr Patient { identifier: mrn }
  if patient.total == 0 { reject AE "unknown patient" }
  for each r in results {
    create ehr Observation body { resourceType: "Observation", status: "final", code: { text: r.code }, valueString: r.value }
  }
}

test "a result is stored" {
  send file("fixtures/oru.hl7") to lab
  expect ack AA
}
`,
};

const hoverAt = async (name: string, needle: string, shift = 1): Promise<string> => {
  const text = files[name]!;
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  const before = text.slice(0, i + shift);
  const position = { line: before.split('\n').length - 1, character: i + shift - (before.lastIndexOf('\n') + 1) };
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri: client.uri(join(dir, name)) }, position });
  return h ? (h.contents as { value: string }).value : '';
};

test.before(async () => {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'fixtures', 'oru.hl7'), 'MSH|^~\\&|LAB\r');
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
  for (const name of Object.keys(files)) await client.open(join(dir, name), files[name]!);
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('auth and API kinds, ACK codes', async () => {
  assert.match(await hoverAt('apis.hdc', 'smart_backend'), /\*\*smart_backend\*\* \(auth kind\) — SMART Backend Services/);
  assert.match(await hoverAt('apis.hdc', 'fhir "'), /\*\*fhir\*\* \(API kind\)/);
  assert.match(await hoverAt('lab.hdc', 'AE "'), /\*\*AE\*\* \(ACK code, MSA-1\) — Application error/);
  assert.match(await hoverAt('lab.hdc', 'AA'), /\*\*AA\*\* \(ACK code, MSA-1\) — Application accept/);
});

test('env() and file(): what they read, and the file named', async () => {
  assert.match(await hoverAt('apis.hdc', 'env("EHR'), /environment/);
  const key = await hoverAt('apis.hdc', 'file("keys');
  assert.match(key, `${join(dir, 'keys/ehr.pem')}\` (not found)`);
  const fixture = await hoverAt('lab.hdc', 'file("fixtures', 7);
  assert.match(fixture, `${join(dir, 'fixtures/oru.hl7')}\``);
  assert.not.match(fixture, 'not found');
});

test('imports: the file and what it declares', async () => {
  const text = await hoverAt('lab.hdc', '"apis.hdc"');
  assert.match(text, join(dir, 'apis.hdc'));
  assert.match(text, 'auth ehr_backend, api ehr');
});

test('clause keywords', async () => {
  assert.match(await hoverAt('lab.hdc', 'run file_results'), /\*\*run\*\* — on TYPE\^TRIGGER run WORKFLOW/);
  assert.match(await hoverAt('lab.hdc', 'each OBX'), /\*\*each\*\*/);
  assert.match(await hoverAt('lab.hdc', 'body {'), /\*\*body\*\*/);
});

test('loop variables over an each group: the segment, the group and each field\'s path', async () => {
  const r = await hoverAt('lab.hdc', 'r in results');
  assert.match(r, 'loop variable: each OBX of `results`, sender lab');
  assert.match(r, 'code (OBX-3.1), value (OBX-5)');
  assert.match(await hoverAt('lab.hdc', 'r.code', 3), '**r.code (OBX-3.1)** — a field of each OBX in `results` (sender lab)');
});

test('HL7 and FHIR hovers link to the specification of the version in use', async () => {
  assert.match(await hoverAt('lab.hdc', 'PID-3.1'), '(https://hl7-definition.caristix.com/v2/HL7v2.3/Fields/PID.3)');
  assert.match(await hoverAt('lab.hdc', 'ORU^R01'), '(https://hl7-definition.caristix.com/v2/HL7v2.3/TriggerEvents/ORU_R01)');
  assert.match(await hoverAt('lab.hdc', 'Patient {'), '(https://hl7.org/fhir/R4/patient.html)');
  assert.match(await hoverAt('lab.hdc', 'identifier:'), '(https://hl7.org/fhir/R4/patient.html#search)');
  assert.match(await hoverAt('lab.hdc', 'total'), '(https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.total)');
  // A choice element's anchor (value[x]).
  assert.match(await hoverAt('lab.hdc', 'valueString'), '(https://hl7.org/fhir/R4/observation-definitions.html#Observation.value_x_)');
});

test.run();
