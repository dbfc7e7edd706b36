// Hover, go to definition, find references and rename against the real server, across the files
// of a project and through imports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hover, Location, Position, WorkspaceEdit } from 'vscode-languageserver/node.js';
import { LspClient } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-nav-'));
let client: LspClient;

const files: Record<string, string> = {
  'shared/auth.hdc': `auth ehr_backend smart_backend {
  client_id env("EHR_CLIENT_ID")
  private_key file(env("EHR_KEY_FILE"))
}
`,
  'proj/apis.hdc': `import "../shared/auth.hdc"

api ehr fhir "https://ehr.example.org/R4" { auth ehr_backend }
`,
  'proj/senders.hdc': `sender labcorp {
  path "/hl7/labcorp"
  version "2.5.1"
  accept ORU^R01
  fields {
    mrn = PID-3[*] where .4.1 == "ACME" -> .1
    family = PID-5.1
  }
  on ORU^R01 run results
}

sender quest {
  path "/hl7/quest"
  version "2.3"
  accept ORU^R01
  fields {
    mrn = PID-2
  }
  on ORU^R01 run results
}
`,
  'proj/workflows.hdc': `workflow results {
  patient = search ehr Patient { identifier: "urn:acme:mrn:{mrn}" }
  if patient.total == 0 { reject AE "unknown patient {mrn}" }
  store { mrn: mrn, id: patient.entry[0].resource.id } in "results" key mrn
}
`,
};
const path = (name: string) => join(dir, name);
const uri = (name: string) => client.uri(path(name));

/** The position of the n-th occurrence (0-based) of needle in a file, plus `shift` characters. */
function at(name: string, needle: string, shift = 0, nth = 0): Position {
  const text = files[name]!;
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, `${needle} not in ${name}`);
  const before = text.slice(0, i + shift);
  return { line: before.split('\n').length - 1, character: i + shift - (before.lastIndexOf('\n') + 1) };
}

const hoverText = async (name: string, needle: string, shift = 1) => {
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri: uri(name) }, position: at(name, needle, shift) });
  return h ? (h.contents as { value: string }).value : '';
};

test.before(async () => {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(path(name), text);
  }
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
  for (const name of ['proj/senders.hdc', 'proj/workflows.hdc']) {
    const u = await client.open(path(name), files[name]!);
    const p = await client.waitForDiagnostics(u, (d) => d.version === 1);
    assert.equal(p.diagnostics.filter((d) => d.severity === 1), [], `${name} compiles cleanly`);
  }
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('hover: HL7 field with name, data type, optionality and repetition for the sender version', async () => {
  const text = await hoverText('proj/senders.hdc', 'PID-5.1');
  assert.match(text, 'PID-5.1');
  assert.match(text, 'Family Name (FN)');
  assert.match(text, 'Patient Name (XPN)');
  assert.match(text, 'required');
  assert.match(text, 'repeating');
  // The same path in a 2.3 sender is described from 2.3's tables.
  const v23 = await hoverText('proj/senders.hdc', 'PID-2');
  assert.match(v23, 'Patient ID (CX)');
  assert.match(v23, 'v2.3');
});

test('hover: message type and trigger event', async () => {
  const text = await hoverText('proj/senders.hdc', 'ORU^R01');
  assert.match(text, 'ORU^R01');
  assert.match(text, /observation/i);
});

test('hover: FHIR resource type, search parameter and element path', async () => {
  assert.match(await hoverText('proj/workflows.hdc', 'Patient {'), /\*\*Patient\*\* \(FHIR R4 resource\)/);
  const param = await hoverText('proj/workflows.hdc', 'identifier:');
  assert.match(param, 'Patient?identifier');
  assert.match(param, 'token');
  const total = await hoverText('proj/workflows.hdc', 'total');
  assert.match(total, 'Bundle.total');
  const id = await hoverText('proj/workflows.hdc', 'resource.id', 'resource.'.length + 1);
  assert.match(id, 'Patient.id');
});

test('hover: a summary of declared entities', async () => {
  const wf = await hoverText('proj/senders.hdc', 'results');
  assert.match(wf, 'workflow results');
  assert.match(wf, 'run by labcorp, quest');
  const api = await hoverText('proj/workflows.hdc', 'ehr');
  assert.match(api, 'api ehr');
  assert.match(api, 'https://ehr.example.org/R4');
  const step = await hoverText('proj/workflows.hdc', 'patient.total');
  assert.match(step, 'Bundle of Patient');
});

test('definition: from a route to the workflow in another file, from an auth to the imported file', async () => {
  const wf = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: uri('proj/senders.hdc') }, position: at('proj/senders.hdc', 'run results', 5) });
  assert.equal(wf, [{ uri: uri('proj/workflows.hdc'), range: { start: at('proj/workflows.hdc', 'results'), end: at('proj/workflows.hdc', 'results', 7) } }]);
  const auth = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: uri('proj/apis.hdc') }, position: at('proj/apis.hdc', 'ehr_backend', 2) });
  assert.is(auth[0]!.uri, uri('shared/auth.hdc'));
  assert.equal(auth[0]!.range.start, at('shared/auth.hdc', 'ehr_backend'));
  const step = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', 'patient.total', 2) });
  assert.equal(step[0]!.range.start, at('proj/workflows.hdc', 'patient'));
});

test('references: every use of a step, and of a workflow across files', async () => {
  const refs = await client.request<Location[]>('textDocument/references', {
    textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', 'patient', 1), context: { includeDeclaration: true },
  });
  assert.is(refs.length, 3, JSON.stringify(refs));
  const wf = await client.request<Location[]>('textDocument/references', {
    textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', 'results', 1), context: { includeDeclaration: false },
  });
  assert.equal(wf.map((l) => [l.uri, l.range.start.line]), [[uri('proj/senders.hdc'), 8], [uri('proj/senders.hdc'), 18]]);
});

test('rename: a mapped field in every sender routing to the workflow and all its uses', async () => {
  const edit = await client.request<WorkspaceEdit>('textDocument/rename', {
    textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', '{mrn}', 1), newName: 'patient_id',
  });
  const changes = edit.changes!;
  assert.is(changes[uri('proj/senders.hdc')]!.length, 2, 'both senders map mrn');
  assert.is(changes[uri('proj/workflows.hdc')]!.length, 4, 'four uses in the workflow (object keys are not uses)');
  for (const edits of Object.values(changes)) for (const e of edits) assert.is(e.newText, 'patient_id');
});

test('rename: an auth declared in an imported file, from its use', async () => {
  const edit = await client.request<WorkspaceEdit>('textDocument/rename', {
    textDocument: { uri: uri('proj/apis.hdc') }, position: at('proj/apis.hdc', 'ehr_backend', 1), newName: 'backend',
  });
  assert.equal(Object.keys(edit.changes!).sort(), [uri('proj/apis.hdc'), uri('shared/auth.hdc')].sort());
});

test('rename refuses keywords, bad names and clashes; prepareRename gives the name range', async () => {
  const prep = await client.request<{ range: unknown; placeholder: string }>('textDocument/prepareRename', {
    textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', 'patient', 3),
  });
  assert.is(prep.placeholder, 'patient');
  for (const newName of ['if', '9lives', 'a-b']) {
    const err = await client.request('textDocument/rename', { textDocument: { uri: uri('proj/workflows.hdc') }, position: at('proj/workflows.hdc', 'patient', 1), newName }).catch((e: Error) => e);
    assert.ok(err instanceof Error, newName);
  }
  const clash = await client.request('textDocument/rename', { textDocument: { uri: uri('proj/senders.hdc') }, position: at('proj/senders.hdc', 'labcorp', 1), newName: 'quest' }).catch((e: Error) => e);
  assert.match(String(clash), 'already exists');
  const none = await client.request('textDocument/prepareRename', { textDocument: { uri: uri('proj/senders.hdc') }, position: at('proj/senders.hdc', 'path', 1) });
  assert.is(none, null);
});

test.run();
