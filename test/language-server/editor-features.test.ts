// What authors reach for, through the real server: formatting that keeps CRLF and trailing
// comments, snippets only for clients that take them, "Run test" lenses, document links, workspace
// symbols and signature help.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeLens, CompletionList, DocumentLink, SignatureHelp, TextEdit, WorkspaceSymbol } from 'vscode-languageserver/node.js';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LspClient, withCursor } from './lsp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-features-'));
let client: LspClient;
let plain: LspClient;

const canonical = `api ehr fhir "https://ehr.example.org/R4" // the EHR

sender lab { // the lab
  path "/hl7/lab"
  version "2.5.1"
  accept ORU^R01
  fields { // mapped from PID
    mrn = PID-3.1 // the record number
  }
  on ORU^R01 run results
}

workflow results {
  if exists(mrn) { // known patients only
    store { mrn: lower(mrn) } in "x"
  }
}
`;

const tests = `import "lab.hdc"

test "stores the result" {
  send file("fixtures/oru.hl7") to lab
  expect ack AA
}

test "rejects unknown senders" {
  send file("fixtures/oru.hl7") to lab
  expect ack AA
}
`;

test.before(async () => {
  mkdirSync(join(dir, 'proj', 'fixtures'), { recursive: true });
  writeFileSync(join(dir, 'proj', 'lab.hdc'), canonical);
  writeFileSync(join(dir, 'proj', 'lab-tests.hdc'), tests);
  writeFileSync(join(dir, 'proj', 'fixtures', 'oru.hl7'), 'MSH|^~\\&|LAB\r');
  client = await LspClient.start({ rootDir: dir, debounceMs: 10 });
  plain = await LspClient.start({ rootDir: dir, debounceMs: 10, capabilities: { workspace: {}, textDocument: { completion: { completionItem: { snippetSupport: false } } } } });
});
test.after(async () => {
  await client.stop();
  await plain.stop();
  rmSync(dir, { recursive: true, force: true });
});

const format = (c: LspClient, uri: string) => c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });

test('a canonical file with trailing comments, after { too, needs no formatting edit', async () => {
  const uri = await client.open(join(dir, 'proj', 'lab.hdc'), canonical);
  assert.equal(await format(client, uri), []);
});

test('a canonical CRLF document gets no edit; a messy one is formatted in CRLF', async () => {
  const crlf = canonical.replace(/\n/g, '\r\n');
  const uri = await client.open(join(dir, 'crlf', 'a.hdc'), crlf);
  assert.equal(await format(client, uri), [], 'canonical CRLF');
  const messy = crlf.replace('  path "/hl7/lab"', '      path    "/hl7/lab"').replace('store {', 'store {\r\n');
  const messyUri = await client.open(join(dir, 'crlf', 'b.hdc'), messy);
  const edits = await format(client, messyUri);
  assert.is(TextDocument.applyEdits(TextDocument.create(messyUri, 'hdc', 1, messy), edits), crlf);
});

test('snippets only for clients that declare snippetSupport, each label once', async () => {
  const { text, position } = withCursor('|\n');
  const path = join(dir, 'snip', 'a.hdc');
  const withSnippets = await client.request<CompletionList>('textDocument/completion', { textDocument: { uri: await client.open(path, text) }, position });
  const labels = withSnippets.items.map((i) => i.label);
  assert.equal(labels.length, new Set(labels).size, `duplicates in ${labels}`);
  assert.ok(withSnippets.items.some((i) => i.label === 'sender' && i.insertTextFormat === 2), 'the sender snippet');
  const without = await plain.request<CompletionList>('textDocument/completion', { textDocument: { uri: await plain.open(path, text) }, position });
  assert.ok(without.items.some((i) => i.label === 'sender'), 'the keyword');
  assert.ok(without.items.every((i) => i.insertTextFormat !== 2 && !/\$\{?\d/.test(i.insertText ?? '')), 'no snippet syntax');
});

test('each test block has a "Run test" lens, the first also "Run all tests"', async () => {
  const uri = await client.open(join(dir, 'proj', 'lab-tests.hdc'), tests);
  const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.equal(lenses.map((l) => [l.range.start.line, l.command?.title, l.command?.arguments?.[1]]), [
    [2, 'Run all tests', undefined],
    [2, 'Run test', 'stores the result'],
    [7, 'Run test', 'rejects unknown senders'],
  ]);
  assert.is(lenses[1]!.command!.command, 'hdc.server.runTest');
});

test('import and file() paths are links to the files, resolved from the file', async () => {
  const uri = await client.open(join(dir, 'proj', 'lab-tests.hdc'), tests);
  const links = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri } });
  assert.equal(links.map((l) => [l.range.start.line, l.target]), [
    [0, client.uri(join(dir, 'proj', 'lab.hdc'))],
    [3, client.uri(join(dir, 'proj', 'fixtures', 'oru.hl7'))],
    [8, client.uri(join(dir, 'proj', 'fixtures', 'oru.hl7'))],
  ]);
});

test('workspace symbols find declarations in files nobody opened', async () => {
  const found = await plain.request<WorkspaceSymbol[]>('workspace/symbol', { query: 'rslts' });
  assert.equal(found.map((s) => [s.name, s.containerName, s.location.uri]), [['results', 'workflow', plain.uri(join(dir, 'proj', 'lab.hdc'))]]);
  const all = await plain.request<WorkspaceSymbol[]>('workspace/symbol', { query: '' });
  assert.ok(['ehr', 'lab', 'results', 'stores the result', 'rejects unknown senders'].every((n) => all.some((s) => s.name === n)), all.map((s) => s.name).join(', '));
});

test('signature help names the function and the argument being written', async () => {
  const { text, position } = withCursor(canonical.replace('lower(mrn)', 'join(mrn, |'));
  const uri = await client.open(join(dir, 'sig', 'a.hdc'), text);
  const help = await client.request<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position });
  assert.is(help.signatures[0]!.label, 'join(list, separator = ",")');
  assert.is(help.activeParameter, 1);
  const none = await client.request<SignatureHelp | null>('textDocument/signatureHelp', { textDocument: { uri }, position: { line: 0, character: 3 } });
  assert.is(none, null);
});

test.run();
