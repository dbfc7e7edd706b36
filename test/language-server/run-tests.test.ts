// The "Run test" and "Run all tests" code lenses: server commands running the real `hdc test`,
// failing expectations published as HDC7010 on their line until the file is edited; `$/progress`
// while the workspace is first checked and `hdc/checking` around checks. The `hdc/tests` request
// lists the `test` blocks for the VS Code Testing API, and the commands answer every test's result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeLens, PublishDiagnosticsParams, Range } from 'vscode-languageserver/node.js';
import { LspClient } from './lsp-client.ts';

interface RunResult {
  passed: number; failed: number; skipped: number; unsaved: number; error?: string;
  tests: Array<{ name: string; uri?: string; status: string; ms: number; failures: Array<{ message: string; uri?: string; range?: Range }> }>;
}
interface FileTests { uri: string; tests: Array<{ name: string; range: Range; selectionRange: Range }> }

const dir = mkdtempSync(join(tmpdir(), 'hdc-lsp-run-tests-'));
const file = join(dir, 'lab-results.hdc');
let client: LspClient;
let uri: string;
let text: string;

const wrong = 'expect field mrn == "000-00-0000"';

test.before(async () => {
  cpSync(new URL('../../examples/lab-results/', import.meta.url).pathname, dir, { recursive: true });
  text = readFileSync(file, 'utf8').replace('expect field mrn == "555-44-3333"', wrong);
  writeFileSync(file, text);
  client = await LspClient.start({
    rootDir: dir, cwd: dir, debounceMs: 20, initializationOptions: { checkingNotifications: true },
    capabilities: { window: { workDoneProgress: true }, workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } },
  });
  uri = await client.open(file, text);
});
test.after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the first check of the workspace reports progress; checks are announced', async () => {
  await client.waitForNotification<{ value: { kind: string } }>('$/progress', (p) => p.value.kind === 'end', 60_000);
  const kinds = client.notifications.filter((n) => n.method === '$/progress').map((n) => (n.params as { value: { kind: string } }).value.kind);
  assert.is(kinds[0], 'begin');
  assert.is(kinds[kinds.length - 1], 'end');
  await client.waitForNotification<{ checking: boolean }>('hdc/checking', (p) => !p.checking);
  assert.ok(client.notifications.some((n) => n.method === 'hdc/checking' && (n.params as { checking: boolean }).checking));
});

test('the lenses name the server\'s commands, which it declares', async () => {
  const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.equal(lenses.map((l) => l.command!.command), ['hdc.server.runTests', 'hdc.server.runTest', 'hdc.server.runTest']);
  const commands = (client.initializeResult!.capabilities.executeCommandProvider as { commands: string[] }).commands;
  for (const l of lenses) assert.ok(commands.includes(l.command!.command));
});

test('Run test: the real hdc test; its failing expectation becomes a diagnostic on that line', async () => {
  const since = client.diagnostics.get(uri)?.length ?? 0;
  const r = await client.request<RunResult>('workspace/executeCommand', { command: 'hdc.server.runTest', arguments: [uri, 'results are filed for a known patient'] });
  assert.equal({ passed: r.passed, failed: r.failed, skipped: r.skipped }, { passed: 0, failed: 1, skipped: 0 });
  const p = await client.waitForDiagnostics(uri, (d) => d.diagnostics.some((x) => x.code === 'HDC7010'), 30_000, since);
  const d = p.diagnostics.find((x) => x.code === 'HDC7010')!;
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(wrong));
  assert.equal(d.range, { start: { line, character: lines[line]!.indexOf('expect') }, end: { line, character: lines[line]!.length } });
  assert.match(d.message, 'test "results are filed for a known patient" failed: field mrn');
  assert.match(d.message, 'hdc test --filter');
  assert.ok(client.notifications.some((n) => n.method === 'window/showMessage' && /1 failed/.test((n.params as { message: string }).message)));
});

test('Run all tests: every test of the project; an edit clears the failures it reported', async () => {
  const r = await client.request<RunResult>('workspace/executeCommand', { command: 'hdc.server.runTests', arguments: [uri] });
  assert.equal({ passed: r.passed, failed: r.failed, skipped: r.skipped }, { passed: 1, failed: 1, skipped: 0 });
  const since = client.diagnostics.get(uri)?.length ?? 0;
  const v = await client.change(uri, text + '\n');
  const p: PublishDiagnosticsParams = await client.waitForDiagnostics(uri, (d) => d.version === v, 30_000, since);
  assert.not.ok(p.diagnostics.some((x) => x.code === 'HDC7010'));
});

test('a run with unsaved edits says the run did not see them', async () => {
  await client.request('workspace/executeCommand', { command: 'hdc.server.runTest', arguments: [uri, 'an unknown patient is answered AE'] });
  const messages = client.notifications.filter((n) => n.method === 'window/showMessage').map((n) => (n.params as { message: string }).message);
  assert.match(messages[messages.length - 1]!, '1 passed, 0 failed; 1 file has unsaved changes the run did not see');
});

test('hdc/tests: the test blocks of a file, from its current text, and of the workspace', async () => {
  const lines = text.split('\n');
  const [one] = await client.request<FileTests[]>('hdc/tests', { textDocument: { uri } });
  assert.is(one!.uri, uri);
  assert.equal(one!.tests.map((t) => t.name), ['results are filed for a known patient', 'an unknown patient is answered AE']);
  const first = lines.findIndex((l) => l.startsWith('test "results'));
  assert.equal(one!.tests[0]!.range.start, { line: first, character: 0 });
  assert.equal(one!.tests[0]!.range.end.line, lines.indexOf('}', first));
  assert.equal(one!.tests[0]!.selectionRange, { start: { line: first, character: 5 }, end: { line: first, character: 5 + '"results are filed for a known patient"'.length } });
  // The workspace: files with tests, a file on disk only included.
  const other = join(dir, 'more.hdc');
  writeFileSync(other, 'test "on disk only" {\n  expect ack AA\n}\n');
  const all = await client.request<FileTests[]>('hdc/tests', {});
  assert.equal(all.map((f) => [f.uri, f.tests.length]), [[uri, 2], [client.uri(other), 1]]);
  // An edit is seen at once (no check awaited); a test removed is gone.
  const withoutSecond = text.slice(0, text.indexOf('test "an unknown'));
  await client.change(uri, withoutSecond);
  const [edited] = await client.request<FileTests[]>('hdc/tests', { textDocument: { uri } });
  assert.equal(edited!.tests.map((t) => t.name), ['results are filed for a known patient']);
  await client.change(uri, text);
  // A deleted file has none.
  rmSync(other);
  const [gone] = await client.request<FileTests[]>('hdc/tests', { textDocument: { uri: client.uri(other) } });
  assert.equal(gone, { uri: client.uri(other), tests: [] });
});

test('the run commands answer each test\'s result: file, status, duration, failures located; quiet sends no message', async () => {
  const shown = client.notifications.filter((n) => n.method === 'window/showMessage').length;
  const r = await client.request<RunResult>('workspace/executeCommand', { command: 'hdc.server.runTests', arguments: [uri, null, { quiet: true }] });
  assert.equal(r.tests.map((t) => [t.name, t.uri, t.status]), [['results are filed for a known patient', uri, 'failed'], ['an unknown patient is answered AE', uri, 'passed']]);
  for (const t of r.tests) assert.ok(Number.isInteger(t.ms) && t.ms >= 0, `ms ${t.ms}`);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(wrong));
  const [failure] = r.tests[0]!.failures;
  assert.is(failure!.uri, uri);
  assert.equal(failure!.range, { start: { line, character: lines[line]!.indexOf('expect') }, end: { line, character: lines[line]!.length } });
  assert.match(failure!.message, 'field mrn');
  assert.is(r.unsaved, 0);
  assert.is(client.notifications.filter((n) => n.method === 'window/showMessage').length, shown);
});

test.run();
