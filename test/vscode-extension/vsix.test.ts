// `npm run build:vsix` bundles the client and server and packages the extension offline; the
// .vsix (a zip) must hold the manifest, the grammar, the language configuration, the bundled
// server with the compiler's tables, and the server must run from there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type CompletionList, type PublishDiagnosticsParams } from 'vscode-languageserver/node.js';

const root = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'vscode-extension/package.json'), 'utf8'));
const vsix = join(root, 'vscode-extension', `${manifest.name}-${manifest.version}.vsix`);

/** Reads every entry of a zip file (central directory; stored or deflated entries). */
function readZip(file: string): Map<string, Buffer> {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'zip end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    assert.is(buf.readUInt32LE(p), 0x02014b50, 'central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + size);
    out.set(name, method === 8 ? inflateRawSync(raw) : Buffer.from(raw));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

let entries: Map<string, Buffer>;

test.before(() => {
  rmSync(vsix, { force: true });
  const r = spawnSync('npm', ['run', '--silent', 'build:vsix'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  entries = readZip(vsix);
});

test('the .vsix holds the manifest with the language, grammar, commands and settings', () => {
  const pkg = JSON.parse(entries.get('extension/package.json')!.toString('utf8'));
  assert.is(pkg.main, './dist/extension.js');
  assert.equal(pkg.contributes.languages[0].extensions, ['.hdc']);
  assert.is(pkg.contributes.languages[0].id, 'hdc');
  assert.equal(pkg.contributes.commands.map((c: { command: string }) => c.command).sort(), ['hdc.compileProject', 'hdc.restartServer', 'hdc.runTests']);
  assert.ok(pkg.contributes.configuration.properties['hdc.diagnostics.debounceMs']);
  assert.ok(entries.has('extension.vsixmanifest'));
  const vsixManifest = entries.get('extension.vsixmanifest')!.toString('utf8');
  assert.match(vsixManifest, `Version="${manifest.version}"`);
});

test('the .vsix holds the grammar, language configuration, README and bundled code', () => {
  const grammar = JSON.parse(entries.get('extension/syntaxes/hdc.tmLanguage.json')!.toString('utf8'));
  assert.is(grammar.scopeName, 'source.hdc');
  const config = JSON.parse(entries.get('extension/language-configuration.json')!.toString('utf8'));
  assert.is(config.comments.lineComment, '//');
  assert.ok(entries.has('extension/readme.md') || entries.has('extension/README.md'));
  assert.ok(entries.get('extension/dist/extension.js')!.length > 10_000);
  assert.match(entries.get('extension/dist/extension.js')!.toString('utf8'), 'hdc/tests', 'the Testing API controller is bundled');
  assert.ok(entries.get('extension/dist/server.js')!.length > 10_000);
  assert.ok(entries.get('extension/dist/check-worker.js')!.length > 10_000, 'the check thread beside the server');
  assert.ok(entries.has('extension/dist/generated/fhir-r4.json'));
  assert.ok(entries.has('extension/dist/generated/hl7-2.5.1.json'));
  for (const name of entries.keys()) assert.not.match(name, /(^|\/)(src|node_modules)\//, `${name} should not be packaged`);
});

test('the client type-checks against the VS Code API it declares (engines.vscode)', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'vscode-extension/tsconfig.json'], { cwd: root, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  // The API the client compiles against must exist in the oldest VS Code the manifest accepts.
  const minor = (v: string) => v.replace(/^[^\d]*/, '').split('.').slice(0, 2).map(Number);
  const [tMajor, tMinor] = minor(JSON.parse(readFileSync(join(root, 'node_modules/@types/vscode/package.json'), 'utf8')).version);
  const [eMajor, eMinor] = minor(manifest.engines.vscode);
  assert.ok(tMajor! < eMajor! || (tMajor === eMajor && tMinor! <= eMinor!), `@types/vscode ${tMajor}.${tMinor} is newer than engines.vscode ${manifest.engines.vscode}`);
});

test('the server unpacked from the .vsix answers completion with the HL7 tables', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-vsix-'));
  try {
    for (const [name, data] of entries) {
      if (!name.startsWith('extension/dist/')) continue;
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), data);
    }
    const child = spawn(process.execPath, [join(dir, 'extension/dist/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const c = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const diagnosticsOf = new Promise<PublishDiagnosticsParams>((resolve) => c.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => resolve(p)));
    c.listen();
    await c.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await c.sendNotification('initialized', {});
    const text = 'sender s {\n  path "/x"\n  version "2.5.1"\n  accept ADT^A01\n  fields {\n    a = PID-5.\n  }\n}\n';
    const uri = 'file://' + join(dir, 'a.hdc');
    await c.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'hdc', version: 1, text } });
    const r = await c.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line: 5, character: 14 } });
    assert.equal(r.items.slice(0, 2).map((i) => [i.label, i.detail]), [['PID-5.1', 'Family Name (FN)'], ['PID-5.2', 'Given Name (ST)']]);
    // Diagnostics come from the bundled check thread (dist/check-worker.js).
    const published = await diagnosticsOf;
    assert.ok(published.diagnostics.some((d) => d.code === 'HDC1001'), JSON.stringify(published));
    // The Test Explorer's request: the bundled server lists test blocks.
    const testUri = 'file://' + join(dir, 't.hdc');
    await c.sendNotification('textDocument/didOpen', { textDocument: { uri: testUri, languageId: 'hdc', version: 1, text: 'test "ok" {\n  expect ack AA\n}\n' } });
    const blocks = await c.sendRequest<Array<{ uri: string; tests: Array<{ name: string }> }>>('hdc/tests', { textDocument: { uri: testUri } });
    assert.equal(blocks.map((f) => f.tests.map((t) => t.name)), [['ok']]);
    await c.sendRequest('shutdown');
    await c.sendNotification('exit');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.is(code, 0);
    c.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
