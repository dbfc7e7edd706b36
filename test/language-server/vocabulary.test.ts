// The vocabulary in the editor: a module's declarations through its spec alone (completion of its
// settings and keyword, hover, the outline) and statement keywords' docs. In process, with a module
// spec registered by the test (the server's own process sees only installed modules).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocuments } from 'vscode-languageserver';
import { Workspace, pathToUri } from '../../language-server/workspace.ts';
import { Analyzer } from '../../language-server/analysis.ts';
import { completion } from '../../language-server/handlers/completion.ts';
import { hover } from '../../language-server/handlers/hover.ts';
import { documentSymbols } from '../../language-server/handlers/document-symbol.ts';
import type { ServerContext } from '../../language-server/server.ts';
import { registerModuleSpec, unregisterModuleSpec } from '../../compiler/specs/module-spec.ts';

registerModuleSpec({
  name: 'demo',
  declarations: [{
    keyword: 'board', doc: 'A board of runs.', name: 'required',
    settings: {
      path: { kind: 'string', doc: 'Where it is served.', required: true },
      refresh: { kind: 'duration', doc: 'How often it refreshes.' },
      show: { kind: 'enum', options: ['runs', 'messages'], doc: 'What it lists.' },
    },
  }],
});

function open(text: string) {
  const workspace = new Workspace();
  const uri = pathToUri('untitled:board.hdc');
  const doc = TextDocument.create(uri, 'hdc', 1, text);
  workspace.setOpen(doc);
  const ctx: ServerContext = { workspace, analyzer: new Analyzer(workspace), documents: undefined as unknown as TextDocuments<TextDocument>, document: (u) => (u === uri ? doc : undefined), snippetSupport: false };
  const at = (needle: string, delta = 0) => doc.positionAt(text.indexOf(needle) + delta);
  return { ctx, uri, at };
}

test('inside a module block: its settings; at the top level: its keyword', () => {
  const { ctx, uri, at } = open('board ops {\n  path "/ops"\n  \n}\n\n');
  const inside = completion(ctx, { textDocument: { uri }, position: at('\n  \n', 3) });
  const labels = inside?.items.map((i) => i.label) ?? [];
  assert.ok(labels.includes('refresh') && labels.includes('show'), labels.join());
  assert.not.ok(labels.includes('path'), 'a setting already written is not offered again');
  const top = completion(ctx, { textDocument: { uri }, position: at('}\n\n', 3) });
  assert.ok(top?.items.some((i) => i.label === 'board'), top?.items.map((i) => i.label).join());
});

test('hover names the module and documents its settings', () => {
  const { ctx, uri, at } = open('board ops {\n  refresh 30s\n}\n');
  const kw = hover(ctx, { textDocument: { uri }, position: at('board', 2) });
  assert.match(String((kw?.contents as { value: string }).value), /\*\*board\*\* \(module demo\) — A board of runs\./);
  const setting = hover(ctx, { textDocument: { uri }, position: at('refresh', 2) });
  assert.match(String((setting?.contents as { value: string }).value), /\*\*refresh\*\* — How often it refreshes\./);
});

test('the outline lists a module block by its name', () => {
  const { ctx } = open('board ops {\n  path "/ops"\n}\n');
  const file = ctx.analyzer.parsed('untitled:board.hdc')!;
  assert.equal(documentSymbols(file).map((s) => [s.name, s.detail]), [['ops', 'board']]);
});

test('hover on a statement keyword shows the vocabulary\'s doc and form', () => {
  const { ctx, uri, at } = open('workflow w {\n  store 1 in "ones"\n  x = get billing "/a"\n}\n');
  const store = hover(ctx, { textDocument: { uri }, position: at('store', 2) });
  assert.match(String((store?.contents as { value: string }).value), /\*\*store\*\* — Keeps a record in the journal\.\n\n`store EXPR in "collection" \[key EXPR\]`/);
  const get = hover(ctx, { textDocument: { uri }, position: at('get', 1) });
  assert.match(String((get?.contents as { value: string }).value), /\*\*get\*\* — A REST request\./);
});

test.after(() => unregisterModuleSpec('demo'));
test.run();
