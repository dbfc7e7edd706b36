// The typed visitor reaches every node the parser builds: compared, over the spec suite's cases and
// the examples, with a reflective walk that finds every object carrying a kind and a range.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { findHdcFiles } from '../../../compiler/api.ts';
import { parse } from '../../../compiler/syntax/parser.ts';
import { nodesAt, walk, type AnyNode } from '../../../compiler/syntax/visit.ts';

const root = new URL('../../../', import.meta.url).pathname;
const files = findHdcFiles([root + 'test/compiler/cases', root + 'examples']);

function reflective(v: unknown, out: Set<object>): void {
  if (Array.isArray(v)) { for (const x of v) reflective(x, out); return; }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Record<string, unknown>;
  if (typeof o.kind === 'string' && typeof o.range === 'object') out.add(o);
  for (const [k, child] of Object.entries(o)) if (k !== 'range') reflective(child, out);
}

test('walk visits exactly the nodes a reflective walk finds', () => {
  assert.ok(files.length > 20, `${files.length} files`);
  for (const file of files) {
    const ast = parse(readFileSync(file, 'utf8'), file).ast;
    const expected = new Set<object>();
    reflective(ast.decls, expected);
    const seen = new Set<object>();
    walk(ast, (n) => { seen.add(n); });
    const missing = [...expected].filter((n) => !seen.has(n)).map((n) => (n as AnyNode).kind);
    assert.equal(missing, [], file);
    assert.is(seen.size, expected.size, file);
  }
});

test('nodesAt gives the chain of nodes holding an offset, outermost first', () => {
  const text = 'workflow w {\n  let x = first(items)\n}\n';
  const ast = parse(text, 'w.hdc').ast;
  const chain = nodesAt(ast, text.indexOf('items') + 1).map((n) => n.kind);
  assert.equal(chain, ['workflow', 'let', 'call', 'ref']);
});

test.run();
