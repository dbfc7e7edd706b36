// The server over stdio: initialize, diagnostics on open and after edits (across files and
// imports), cancellation under rapid edits, quick fixes, formatting, outline and folding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeAction, DocumentSymbol, FoldingRange, TextEdit } from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { formatSource } from '../../compiler/format/format.ts';
import { LspClient } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-protocol-'));
const DEBOUNCE = 80;
let client: LspClient;

const senders = `api ehr fhir "https://ehr.example.org/R4" {}

sender labcorp {
  path "/hl7/labcorp"
  version "2.5.1"
  accept ORU^R01
  fields {
    mrn = PID-3.1
  }
  on ORU^R01 run results
}
`;
const workflows = `workflow results {
  patient = search ehr Patient { identifier: "urn:acme:mrn:{mrn}" }
  if patient.total == 0 { reject AE "unknown patient {mrn}" }
}
`;

test.before(async () => {
  mkdirSync(join(dir, 'proj'));
  writeFileSync(join(dir, 'proj', 'senders.hdc'), senders);
  writeFileSync(join(dir, 'proj', 'workflows.hdc'), workflows);
  mkdirSync(join(dir, 'unopened'));
  writeFileSync(join(dir, 'unopened', 'broken.hdc'), senders.replace('run results', 'run nowhere'));
  client = await LspClient.start({ rootDir: dir, debounceMs: DEBOUNCE });
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('initialize announces every feature', () => {
  const caps = client.initializeResult!.capabilities;
  assert.is(caps.textDocumentSync, 2, 'incremental sync');
  assert.ok(caps.completionProvider?.triggerCharacters?.includes('.'));
  for (const k of ['hoverProvider', 'definitionProvider', 'referencesProvider', 'documentSymbolProvider', 'foldingRangeProvider', 'documentFormattingProvider', 'codeLensProvider', 'documentLinkProvider', 'workspaceSymbolProvider', 'signatureHelpProvider', 'semanticTokensProvider'] as const) assert.ok(caps[k], k);
  assert.equal(caps.renameProvider, { prepareProvider: true });
  assert.equal(caps.codeActionProvider, { codeActionKinds: ['quickfix'] });
});

test('a clean project publishes empty diagnostics on open', async () => {
  const uri = await client.open(join(dir, 'proj', 'senders.hdc'), senders);
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1);
  assert.equal(p.diagnostics, []);
});

test('diagnostics after an edit carry the compiler code, range, detail and a quick fix', async () => {
  const uri = client.uri(join(dir, 'proj', 'senders.hdc'));
  const broken = senders.replace('run results', 'run resuls');
  const version = await client.change(uri, broken);
  const p = await client.waitForDiagnostics(uri, (d) => d.version === version);
  const d = p.diagnostics.find((x) => x.code === 'HDC2001');
  assert.ok(d, JSON.stringify(p.diagnostics));
  assert.is(d!.source, 'hdc');
  const line = broken.split('\n').findIndex((l) => l.includes('resuls'));
  assert.equal(d!.range, { start: { line, character: 17 }, end: { line, character: 23 } });
  assert.match(d!.message, /unknown workflow "resuls"/);
  assert.match(d!.message, /Did you mean "results"/);

  const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri }, range: d!.range, context: { diagnostics: [d] },
  });
  assert.is(actions.length, 1);
  assert.is(actions[0]!.kind, 'quickfix');
  const edit = actions[0]!.edit!.changes![uri]![0]!;
  assert.is(edit.newText, 'results');
  assert.equal(edit.range, d!.range);

  const fixed = await client.change(uri, senders);
  const clean = await client.waitForDiagnostics(uri, (x) => x.version === fixed);
  assert.equal(clean.diagnostics, []);
});

test('an edit in one file re-checks the other files of its project', async () => {
  const sendersUri = client.uri(join(dir, 'proj', 'senders.hdc'));
  const wfUri = await client.open(join(dir, 'proj', 'workflows.hdc'), workflows);
  await client.waitForDiagnostics(wfUri, (d) => d.version === 1);
  const since = client.diagnostics.get(sendersUri)?.length ?? 0;
  await client.change(wfUri, workflows.replace('workflow results', 'workflow outcomes'));
  const p = await client.waitForDiagnostics(sendersUri, (d) => d.diagnostics.some((x) => x.code === 'HDC2001'), 10_000, since);
  assert.match(p.diagnostics[0]!.message, /unknown workflow "results"/);
  await client.change(wfUri, workflows);
  await client.waitForDiagnostics(sendersUri, (d) => d.diagnostics.length === 0, 10_000, since + 1);
});

test('an edit in an imported file re-checks the importing project', async () => {
  mkdirSync(join(dir, 'shared'));
  mkdirSync(join(dir, 'main'));
  const auth = 'auth backend bearer {\n  token env("TOKEN")\n}\n';
  writeFileSync(join(dir, 'shared', 'auth.hdc'), auth);
  const main = 'import "../shared/auth.hdc"\n\napi ehr fhir "https://ehr.example.org/R4" { auth backend }\n';
  const mainUri = await client.open(join(dir, 'main', 'main.hdc'), main);
  const first = await client.waitForDiagnostics(mainUri, (d) => d.version === 1);
  assert.equal(first.diagnostics, []);
  const authUri = await client.open(join(dir, 'shared', 'auth.hdc'), auth);
  const since = client.diagnostics.get(mainUri)!.length;
  await client.change(authUri, auth.replace('backend', 'backend2'));
  const p = await client.waitForDiagnostics(mainUri, (d) => d.diagnostics.length > 0, 10_000, since);
  assert.is(p.diagnostics[0]!.code, 'HDC2001');
  assert.match(p.diagnostics[0]!.message, /unknown auth "backend"/);
});

test('rapid edits: stale checks are dropped, only the last version is published', async () => {
  const path = join(dir, 'rapid', 'r.hdc');
  mkdirSync(join(dir, 'rapid'));
  const uri = await client.open(path, senders);
  await client.waitForDiagnostics(uri, (d) => d.version === 1);
  const since = client.diagnostics.get(uri)!.length;
  let last = 0;
  // 30 edits, each introducing a different unknown name, faster than the quiet period.
  for (let i = 0; i < 30; i++) {
    last = await client.change(uri, senders.replace('run results', `run wf${i}`));
    await new Promise((r) => setTimeout(r, 2));
  }
  const p = await client.waitForDiagnostics(uri, (d) => d.version === last, 10_000, since);
  assert.match(p.diagnostics.map((d) => d.message).join('\n'), /unknown workflow "wf29"/);
  await new Promise((r) => setTimeout(r, DEBOUNCE * 3));
  const after = client.diagnostics.get(uri)!.slice(since);
  assert.equal(after.map((x) => x.version), [last], 'one publication, for the last version only');
});

test('files nobody opened are checked at start-up and after they change on disk', async () => {
  const path = join(dir, 'unopened', 'broken.hdc');
  const uri = client.uri(path);
  const first = await client.waitForDiagnostics(uri, (d) => d.diagnostics.length > 0);
  assert.is(first.version, undefined, 'not an open document');
  assert.match(first.diagnostics[0]!.message, /unknown workflow "nowhere"/);
  writeFileSync(path, senders.replace('run results', 'run elsewhere'));
  const since = client.diagnostics.get(uri)!.length;
  await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri, type: 2 }] });
  const again = await client.waitForDiagnostics(uri, () => true, 10_000, since);
  assert.match(again.diagnostics[0]!.message, /unknown workflow "elsewhere"/);
  // A new file on disk that declares the missing workflow fixes it.
  writeFileSync(join(dir, 'unopened', 'elsewhere.hdc'), 'workflow elsewhere {\n  reject AE "no"\n}\n');
  const since2 = client.diagnostics.get(uri)!.length;
  await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: client.uri(join(dir, 'unopened', 'elsewhere.hdc')), type: 1 }] });
  const fixed = await client.waitForDiagnostics(uri, () => true, 10_000, since2);
  assert.equal(fixed.diagnostics, []);
});

test('an untitled document is a project of its own', async () => {
  const uri = 'untitled:Untitled-1';
  await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'hdc', version: 1, text: 'sender s {\n  path "/x"\n  accept ADT^A01\n  on ADT^A01 run results\n}\n' } });
  const p = await client.waitForDiagnostics(uri, (d) => d.version === 1);
  // "results" exists in proj/ but an untitled document sees only itself.
  assert.ok(p.diagnostics.some((d) => d.code === 'HDC2001'), JSON.stringify(p.diagnostics));
});

test('formatting returns the hdc fmt layout as edits', async () => {
  const messy = 'workflow   results{\n      patient=search ehr Patient {identifier:"x"}\n}\n';
  const uri = await client.open(join(dir, 'fmt.hdc'), messy);
  const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  const doc = TextDocument.create(uri, 'hdc', 1, messy);
  const result = TextDocument.applyEdits(doc, edits);
  assert.is(result, formatSource(messy, join(dir, 'fmt.hdc')).text);
  assert.is.not(result, messy);
  const again = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri: await client.open(join(dir, 'fmt2.hdc'), result) }, options: { tabSize: 2, insertSpaces: true } });
  assert.equal(again, [], 'formatted text needs no edits');
});

test('document symbols: declarations with fields, routes and steps', async () => {
  const uri = client.uri(join(dir, 'proj', 'senders.hdc'));
  const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
  assert.equal(symbols.map((s) => s.name), ['ehr', 'labcorp']);
  const labcorp = symbols[1]!;
  assert.equal(labcorp.children!.map((c) => c.name), ['mrn', 'on ORU^R01']);
  assert.is(labcorp.children![0]!.detail, 'PID-3.1');
  const wf = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: client.uri(join(dir, 'proj', 'workflows.hdc')) } });
  assert.equal(wf[0]!.children!.map((c) => [c.name, c.detail]), [['patient', 'search ehr Patient']]);
});

test('folding ranges for blocks and comment runs', async () => {
  const text = '// one\n// two\n// three\nsender s {\n  path "/x"\n  fields {\n    a = PID-3\n  }\n}\n';
  const uri = await client.open(join(dir, 'fold.hdc'), text);
  const ranges = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
  const pairs = ranges.map((r) => [r.startLine, r.endLine, r.kind ?? '']);
  assert.ok(pairs.some(([s, e, k]) => s === 0 && e === 2 && k === 'comment'), JSON.stringify(pairs));
  assert.ok(pairs.some(([s, e]) => s === 3 && e === 7), JSON.stringify(pairs));
  assert.ok(pairs.some(([s, e]) => s === 5 && e === 6), JSON.stringify(pairs));
});

test.run();
