// Which edits leave the last parse and analysis good for completion (language-server/local-edit.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from '../../compiler/syntax/parser.ts';
import { localEdit, offsetBefore, shiftedView } from '../../language-server/local-edit.ts';

const before = `// lab feed
api ehr fhir "https://ehr.example.org/R4" {}

workflow w {
  p = search ehr Patient { identifier: "1" }
  let v = p
}
`;
const file = parse(before, 'a.hdc').ast;
const edit = (now: string, cursor: string) => localEdit(file, before, now, now.indexOf(cursor) + cursor.length);

test('typing on the cursor\'s line inside a declaration is local', () => {
  const now = before.replace('let v = p', 'let v = p.entry');
  const e = edit(now, 'p.entry');
  assert.ok(e);
  assert.is(e!.decl?.kind, 'workflow');
  assert.is(offsetBefore(e!, now.indexOf('p.entry') + 7), before.indexOf('let v = p') + 9);
  assert.is(shiftedView(file, e!).decls[1]!.range.end.offset, file.decls[1]!.range.end.offset + 6);
});

test('a new line inside the declaration, or an edit on another line of it, is not', () => {
  assert.is(edit(before.replace('let v = p', 'q = read ehr Patient "2"\n  let v = q.'), 'q.'), undefined);
  assert.is(edit(before.replace('identifier: "1"', 'identifier: "12"'), 'let v = p'), undefined);
});

test('comment lines between declarations are local, and move what follows', () => {
  assert.ok(edit('// partner: ACME\n' + before.replace('// lab feed', '// lab feed, v2'), 'let v = p'));
  const twoPlaces = before.replace('// lab feed', '// lab feed, v2').replace('let v = p', 'let v = p.');
  assert.is(edit(twoPlaces, 'p.'), undefined, 'two separate changes are one change spanning declarations');
  const added = '// partner: ACME\n' + before;
  const e = edit(added, 'let v = p');
  assert.ok(e);
  assert.is(e!.lineDelta, 1);
  const view = shiftedView(file, e!);
  assert.is(view.decls[1]!.range.start.line, file.decls[1]!.range.start.line + 1);
  assert.is(offsetBefore(e!, added.indexOf('let v = p')), before.indexOf('let v = p'));
});

test('a declaration written between declarations is not', () => {
  assert.is(edit(before.replace('\nworkflow w', '\napi b rest "https://b.org" {}\n\nworkflow w'), 'let v = p'), undefined);
});

test.run();
