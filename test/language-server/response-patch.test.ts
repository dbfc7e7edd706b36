// The language server on declared REST responses and FHIR patch: completion of a step's declared
// fields and of patch syntax, hover on the step and its fields, and the compiler's checks live.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver/node.js';
import { LspClient, withCursor } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-response-'));
let client: LspClient;
let n = 0;

const project = `api ehr fhir "https://ehr.example.org/R4"
api sched rest "https://sched.example.org/api"

sender siu {
  path "/hl7/siu"
  accept SIU^S12
  fields { appt = SCH-1.1 }
  on SIU^S12 run book
}

workflow book {
  slots = get sched "/slots" query { appointment: appt } response {
    total = data.count as number
    open  = each data.results {
      id    = id as string
      start = start as datetime
    }
    note  = data.note as string optional
  }
  store { total: slots.total } in "slots"
}
`;

async function open(text: string): Promise<string> {
  return client.open(join(dir, `case${n++}.hdc`), text);
}

async function complete(fixture: string): Promise<string[]> {
  const { text, position } = withCursor(fixture);
  const uri = await open(text);
  const r = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position });
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  return (!r ? [] : Array.isArray(r) ? r : r.items).map((i) => i.label);
}

async function hover(fixture: string): Promise<string> {
  const { text, position } = withCursor(fixture);
  const uri = await open(text);
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  return h ? (h.contents as { value: string }).value : '';
}

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the project compiles cleanly', async () => {
  const uri = await open(project);
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1);
  assert.equal(p.diagnostics.filter((d) => d.severity === 1), []);
});

test('completion after a step name offers its declared response fields', async () => {
  const labels = await complete(project.replace('{ total: slots.total }', '{ total: slots.| }'));
  assert.equal(labels.sort(), ['note', 'open', 'total']);
});

test('completion after `as` in a response declaration offers its conversions, and nothing else there', async () => {
  const conv = await complete(project.replace('total = data.count as number', 'total = data.count as |'));
  assert.equal(conv.sort(), ['boolean', 'date', 'datetime', 'list', 'number', 'record', 'string']);
  const nested = await complete(project.replace('start = start as datetime', 'start = start as |'));
  assert.ok(nested.includes('datetime'));
  assert.equal(await complete(project.replace('total = data.count as number', 'total = data.|')), []);
});

test('hover on a step and on one of its fields shows the declared shape', async () => {
  const step = await hover(project.replace('{ total: slots.total }', '{ total: s|lots.total }'));
  assert.match(step, /Response: total: number, open: list of \{ id: string, start: datetime \}, note: string \(optional\)/);
  const field = await hover(project.replace('{ total: slots.total }', '{ total: slots.to|tal }'));
  assert.match(field, /slots\.total: number/);
});

test('a field the response does not declare is an error with a suggestion', async () => {
  const uri = await open(project.replace('{ total: slots.total }', '{ total: slots.totl }'));
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1);
  const d = p.diagnostics.find((x) => x.code === 'HDC2001');
  assert.ok(d, JSON.stringify(p.diagnostics));
  assert.match(d!.message, /"slots" has no field "totl"/);
});

test('completion: patch takes a FHIR or REST API, then where/body, then the elements of the type', async () => {
  const body = (line: string) => project.replace('  store { total: slots.total } in "slots"', line);
  const apis = await complete(body('  patch |'));
  assert.ok(apis.includes('ehr') && apis.includes('sched'), apis.join(','));
  assert.ok((await complete(body('  patch ehr |'))).includes('Patient'));
  assert.equal((await complete(body('  patch ehr Patient |'))).sort(), ['body', 'where']);
  const elements = await complete(body('  patch ehr Patient slots.note body { | }'));
  for (const e of ['telecom', 'address', 'active']) assert.ok(elements.includes(e), e);
  assert.ok((await complete(body('  x = get sched "/x" |'))).includes('response'));
});

test('a patch of an element the type lacks is flagged while typing', async () => {
  const uri = await open(project.replace('  store { total: slots.total } in "slots"', '  patch ehr Patient slots.note body { telecoms: [] }'));
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1);
  const d = p.diagnostics.find((x) => x.code === 'HDC4010');
  assert.ok(d, JSON.stringify(p.diagnostics));
  assert.match(d!.message, /Patient has no element telecoms/);
});

test.run();
