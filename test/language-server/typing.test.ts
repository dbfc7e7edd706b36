// Completion while typing reads the last parse and analysis through local edits (a change on the
// cursor's line, comments between declarations): at every step of a typing session its answer
// must equal that of a server seeing the text for the first time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionItem, CompletionList } from 'vscode-languageserver/node.js';
import { LspClient, withCursor } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-typing-'));
let client: LspClient;

const start = `api ehr fhir "https://ehr.example.org/R4" {}

sender lab {
  path "/hl7/lab"
  accept ORU^R01
  fields {
    mrn = PID-3.1
    results = each OBX { code = OBX-3.1, value = OBX-5 }
  }
  on ORU^R01 run file_result
}

workflow file_result {
  patient = search ehr Patient { identifier: mrn }
  |
}
`;

/** The typing session: each step's text, with the cursor where completion is asked. */
const steps = [
  start.replace('|', 'let v = patient.|'),
  start.replace('|', 'let v = patient.entry[0].resource.|'),
  // A comment added above: every offset after it moved.
  '// partner: ACME\n' + start.replace('|', 'let v = patient.entry[0].resource.|'),
  '// partner: ACME lab\n' + start.replace('|', 'let v = patient.entry[0].resource.n|'),
  // A new step on the line above: the cursor must see it.
  start.replace('|', 'enc = read ehr Encounter "1"\n  let v = enc.|'),
  start.replace('|', 'enc = read ehr Encounter "1"\n  for each r in results {\n    let c = r.|\n  }'),
  start.replace('|', 'enc = read ehr Encounter "1"\n  for each r in results {\n    let c = r.code\n    |\n  }'),
  start.replace('|', 'enc = read ehr Encounter "1"\n  for each r in results {\n    let c = r.code\n    x = search ehr Observation { |\n  }'),
  start.replace('|', 'enc = read ehr Encounter "1"\n  for each r in results {\n    let c = r.code\n    x = search ehr Observation { code: c, |\n  }'),
];

const labels = (r: CompletionList | CompletionItem[] | null) => (r ? (Array.isArray(r) ? r : r.items) : []).map((i) => i.label).sort();

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('every step of a typing session completes as a fresh server would', async () => {
  mkdirSync(join(dir, 'session'));
  const first = withCursor(steps[0]!);
  const uri = await client.open(join(dir, 'session', 'main.hdc'), first.text);
  for (const [i, step] of steps.entries()) {
    const { text, position } = withCursor(step);
    if (i > 0) await client.change(uri, text);
    const typed = labels(await client.request('textDocument/completion', { textDocument: { uri }, position }));
    // The same text opened alone, in a project of its own.
    mkdirSync(join(dir, `fresh${i}`));
    const freshUri = await client.open(join(dir, `fresh${i}`, 'main.hdc'), text);
    const fresh = labels(await client.request('textDocument/completion', { textDocument: { uri: freshUri }, position }));
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: freshUri } });
    assert.ok(fresh.length > 0, `step ${i}: the fresh server offers something`);
    assert.equal(typed, fresh, `step ${i}`);
  }
});

test.run();
