// Every typo the editor knows about is one located error with a quick fix, through the real server:
// FHIR elements read from step results, the cascades a slip used to cause (a lower-case type, a
// long trigger, a missing or stray brace, a misspelt route), and fixes ranked by likelihood.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LspClient } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-typos-'));
let client: LspClient;
let n = 0;

const base = `api ehr fhir "https://ehr.example.org/R4" {}

sender lab {
  path "/hl7/lab"
  version "2.5.1"
  accept ORU^R01
  fields {
    mrn = PID-3.1
    value = OBX-5
  }
  on ORU^R01 run results
}

workflow results {
  patient = search ehr Patient { identifier: "urn:acme:mrn|{mrn}" }
  if patient.total == 0 {
    reject AE "unknown patient {mrn}"
  }
  obs = read ehr Observation "1"
  store { mrn: mrn, v: value, id: patient.entry[0].resource.birthDate, q: obs.valueQuantity.value } in "x"
}
`;

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 10 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the base text with one edit in a project of its own; returns the published diagnostics. */
async function check(from: string, to: string): Promise<{ uri: string; text: string; diagnostics: Diagnostic[] }> {
  assert.ok(base.includes(from), from);
  const text = base.replace(from, to);
  const folder = join(dir, `case-${n++}`);
  mkdirSync(folder);
  const uri = await client.open(join(folder, 'a.hdc'), text);
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1, 60_000);
  return { uri, text, diagnostics: p.diagnostics };
}

async function fixes(uri: string, d: Diagnostic): Promise<CodeAction[]> {
  return client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
}

const applyFirst = (text: string, uri: string, action: CodeAction) =>
  TextDocument.applyEdits(TextDocument.create(uri, 'hdc', 1, text), action.edit!.changes![uri] as TextEdit[]);

test('the base text is clean', async () => {
  const { diagnostics } = await check('', '');
  assert.equal(diagnostics.filter((d) => d.severity === 1), []);
});

for (const [name, from, to, code, fixed] of [
  ['a Bundle element of a search result', 'if patient.total', 'if patient.totl', 'HDC4020', 'if patient.total'],
  ['a resource element past entry.resource', 'resource.birthDate', 'resource.birthDat', 'HDC4020', 'resource.birthDate'],
  ['a data type element', 'valueQuantity.value', 'valueQuantity.valu', 'HDC4020', 'valueQuantity.value'],
  ['a typed choice element', 'obs.valueQuantity.value', 'obs.valueQuantiy', 'HDC4020', 'obs.valueQuantity'],
  ['a resource type in lower case after the API', 'search ehr Patient', 'search ehr patient', 'HDC4001', 'search ehr Patient'],
  ['a trigger with a digit too many', 'accept ORU^R01', 'accept ORU^R011', 'HDC3005', 'accept ORU^R01'],
  ['a field number with a digit too many', 'OBX-5\n', 'OBX-51\n', 'HDC3002', 'OBX-5\n'],
  ['an unknown version', 'version "2.5.1"', 'version "2.5.2"', 'HDC3004', 'version "2.5.1"'],
  ['a } missing inside an if', '    reject AE "unknown patient {mrn}"\n  }\n', '    reject AE "unknown patient {mrn}"\n', 'HDC1002', '    reject AE "unknown patient {mrn}"\n  }\n'],
  ['a stray {', '  obs = read', '  { obs = read', 'HDC1010', '  obs = read'],
  ['a misspelt route', 'run results', 'run resuts', 'HDC2001', 'run results'],
] as const) {
  test(`${name}: one diagnostic, and its first quick fix repairs the file`, async () => {
    const { uri, text, diagnostics } = await check(from, to);
    const problems = diagnostics.filter((d) => d.severity === 1 || d.severity === 2);
    assert.equal(problems.map((d) => d.code), [code], JSON.stringify(problems.map((d) => d.message)));
    const actions = await fixes(uri, problems[0]!);
    assert.ok(actions.length > 0, 'a quick fix');
    assert.ok(actions[0]!.isPreferred);
    assert.is(applyFirst(text, uri, actions[0]!), base.replace(from, fixed));
  });
}

test('the missing } is reported at the if that lacks it, not at the workflow', async () => {
  const { diagnostics } = await check('    reject AE "unknown patient {mrn}"\n  }\n', '    reject AE "unknown patient {mrn}"\n');
  assert.is(diagnostics[0]!.range.start.line, 15, 'the line of `if patient.total == 0 {`');
});

test('fixes name what they do: remove a stray brace, insert a missing one', async () => {
  const stray = await check('  obs = read', '  { obs = read');
  assert.is((await fixes(stray.uri, stray.diagnostics[0]!))[0]!.title, 'Remove "{"');
  const missing = await check('    reject AE "unknown patient {mrn}"\n  }\n', '    reject AE "unknown patient {mrn}"\n');
  assert.is((await fixes(missing.uri, missing.diagnostics[0]!))[0]!.title, 'Insert "}"');
});

test('OBX-51 offers OBX-5 before OBX-15 and OBX-1; 2.5.2 offers 2.5.1 and 2.5 before 2.8.2', async () => {
  const obx = await check('OBX-5\n', 'OBX-51\n');
  assert.equal((await fixes(obx.uri, obx.diagnostics[0]!)).map((a) => a.edit!.changes![obx.uri]![0]!.newText), ['OBX-5', 'OBX-15', 'OBX-1']);
  const version = await check('version "2.5.1"', 'version "2.5.2"');
  assert.equal((await fixes(version.uri, version.diagnostics[0]!)).map((a) => a.edit!.changes![version.uri]![0]!.newText), ['"2.5.1"', '"2.5"', '"2.8.2"']);
});

test('reads a search may _include stay unflagged when some resource type has them', async () => {
  const { diagnostics } = await check('resource.birthDate', 'resource.managingOrganization');
  assert.equal(diagnostics.filter((d) => d.severity === 1), []);
});

test.run();
