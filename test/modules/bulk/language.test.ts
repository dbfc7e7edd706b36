// The bulk block in the editor, from the module's spec alone: its settings offered in the block,
// the words each setting takes next (levels, resource types, `run`, the project's workflows), and
// a workflow run by `on TYPE run W` seeing `resource` and `bulk`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionItem, CompletionList } from 'vscode-languageserver/node.js';
import { LspClient, withCursor } from '../../language-server/lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-bulk-'));
let client: LspClient;
let n = 0;

const project = (body: string, workflow = '  store resource.id in "seen"') => `
api ehr fhir "https://ehr.example.org/R4"

bulk nightly from ehr {
${body}
}

workflow take {
${workflow}
}
`;

async function complete(fixture: string): Promise<string[]> {
  const { text, position } = withCursor(fixture);
  const uri = await client.open(join(dir, `case${n++}.hdc`), text);
  const r = await client.request<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position });
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  return (r ? (Array.isArray(r) ? r : r.items) : []).map((i) => i.label);
}

async function hover(fixture: string): Promise<string> {
  const { text, position } = withCursor(fixture);
  const uri = await client.open(join(dir, `case${n++}.hdc`), text);
  const r = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position });
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  return r?.contents.value ?? '';
}

test.before(async () => {
  client = await LspClient.start({ rootDir: dir, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the block\'s settings', async () => {
  const labels = await complete(project('  level system\n  |'));
  for (const k of ['types', 'type_filter', 'since', 'schedule', 'on', 'store', 'concurrency']) assert.ok(labels.includes(k), `${k} in ${labels.join(', ')}`);
});

test('levels, resource types, run and the workflows, one word after another', async () => {
  assert.ok((await complete(project('  level |'))).includes('group'));
  assert.ok((await complete(project('  level system\n  types Patient, Obs|'))).includes('Observation'));
  const first = await complete(project('  level system\n  on |'));
  assert.ok(first.includes('deleted') && first.includes('Patient'));
  assert.equal(await complete(project('  level system\n  on Patient |')), ['run']);
  assert.ok((await complete(project('  level system\n  on Patient run |'))).includes('take'));
});

test('a workflow run by the block sees resource and bulk', async () => {
  const labels = await complete(project('  level system\n  on Patient run take', '  store | in "seen"'));
  assert.ok(labels.includes('resource') && labels.includes('bulk'), labels.join(', '));
});

test('hover: the resource types, a type_filter\'s parameters, the workflow run', async () => {
  assert.match(await hover(project('  level system\n  types Patient, Obs|ervation')), /\*\*Observation\*\* \(FHIR R4 resource\)/);
  const filter = await hover(project('  level system\n  types Observation\n  type_filter "Observation?cate|gory=laboratory&code=1234-5"'));
  assert.match(filter, /`category` \(token\)/);
  assert.match(filter, /`code` \(token\)/);
  assert.match(await hover(project('  level system\n  on Pat|ient run take')), /\*\*Patient\*\*/);
  assert.match(await hover(project('  level system\n  on Patient run ta|ke')), /take/);
});

test.run();
