// The examples through the server: its diagnostics are the compiler's (same codes and ranges),
// every HL7 path has a hover, and the outline lists every declaration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentSymbol, Hover } from 'vscode-languageserver/node.js';
import { compileSources, findHdcFiles } from '../../compiler/api.ts';
import { walk } from '../../compiler/syntax/visit.ts';
import { parse } from '../../compiler/syntax/parser.ts';
import { LspClient } from './lsp-client.ts';

const root = new URL('../..', import.meta.url).pathname;
const examples = join(root, 'examples');
const folders = readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(examples, d.name));
let client: LspClient;

test.before(async () => {
  client = await LspClient.start({ rootDir: examples, debounceMs: 20 });
});
test.after(async () => {
  await client.stop();
});

test('there are examples to check', () => {
  assert.ok(findHdcFiles(folders).length >= 3);
});

test('diagnostics equal the compiler\'s for every example project', async () => {
  for (const folder of folders) {
    const files = readdirSync(folder).filter((n) => n.endsWith('.hdc')).map((n) => join(folder, n));
    if (!files.length) continue;
    const sources = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
    const expected = compileSources(sources).diagnostics;
    for (const file of files) {
      const uri = await client.open(file, sources.get(file)!);
      const published = await client.waitForDiagnostics(uri, (d) => d.version === 1);
      const want = expected.filter((d) => d.file === file).map((d) => `${d.code} ${d.range.start.line - 1}:${d.range.start.col - 1}-${d.range.end.line - 1}:${d.range.end.col - 1} ${d.summary}`);
      const got = published.diagnostics.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${d.message.split('\n')[0]}`);
      assert.equal(got, want, file);
    }
  }
});

test('every HL7 path in the examples has a hover naming the field', async () => {
  let count = 0;
  for (const file of findHdcFiles(folders)) {
    const text = readFileSync(file, 'utf8');
    const uri = client.uri(file);
    const paths: Array<{ line: number; character: number; text: string }> = [];
    walk(parse(text, file).ast, (n) => {
      if (n.kind === 'hl7path') paths.push({ line: n.range.start.line - 1, character: n.range.start.col, text: n.path.text });
    });
    for (const p of paths) {
      const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: p.line, character: p.character } });
      const value = (h?.contents as { value?: string } | undefined)?.value ?? '';
      assert.match(value, /\(([A-Z0-9]{2,6})\)/, `${file}:${p.line + 1} ${p.text}: ${value}`);
      count++;
    }
  }
  assert.ok(count > 20, `${count} paths`);
});

test('the outline lists every declaration of every example', async () => {
  for (const file of findHdcFiles(folders)) {
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: client.uri(file) } });
    const decls = parse(readFileSync(file, 'utf8'), file).ast.decls;
    assert.is(symbols.length, decls.length, file);
  }
});

test.run();
