// The parser reports what it expects at a cursor (compiler/syntax/expected.ts): completion's keywords.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectedAt } from '../../../compiler/syntax/expected.ts';
import { declarationKeywords, statementStarts } from '../../../compiler/specs/statements.ts';

const at = (text: string) => expectedAt(text, text.length);
const words = (text: string) => [...at(text).keywords].sort();

test('only the words the construct takes next', () => {
  assert.equal(words('workflow w {\n  for '), ['each']);
  assert.equal(words('workflow w {\n  for each x '), ['in']);
  assert.equal(words('sender s {\n  on ORU^R01 '), ['run']);
  assert.equal(words('test "t" {\n  expect '), ['ack', 'field', 'no', 'redirect', 'request', 'stored']);
  assert.is(at('workflow w {\n  for ').name, false);
});

test('after a field\'s path: where and as, or the next field', () => {
  const e = at('sender s {\n  fields {\n    a = PID-3[*] ');
  assert.ok(e.keywords.has('where') && e.keywords.has('as'));
  assert.ok(e.name);
});

test('statement and declaration starts come from the vocabulary the parser dispatches on', () => {
  const stmt = at('workflow w {\n  ');
  for (const w of statementStarts('workflow')) assert.ok(stmt.keywords.has(w), w);
  assert.ok(stmt.name, 'a step or assignment starts with a name');
  const top = at('');
  for (const w of declarationKeywords()) assert.ok(top.keywords.has(w), w);
});

test('an error before the cursor does not report what recovery tested', () => {
  const e = at('workflow w {\n  let = 1\n  for ');
  assert.equal([...e.keywords], ['each']);
});

test.run();
