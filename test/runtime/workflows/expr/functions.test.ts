import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { functionNames, functions } from '../../../../runtime/workflows/expr/functions.ts';

test('the function set is exactly the language one', () => {
  const expected = 'first last count exists empty lower upper trim coalesce join split concat substring replace number string date datetime format_date now today contains starts_with ends_with sum min max distinct uuid er7 flatten distinct_by when'.split(' ');
  assert.equal([...functionNames].sort(), [...expected].sort());
  assert.ok(Object.isFrozen(functionNames));
});

test('every function is total on absent and odd arguments', () => {
  const odd: unknown[] = [null, undefined, 0, '', 'x', [], [null], {}, true, NaN];
  for (const name of functionNames) {
    for (const a of odd) for (const b of odd) functions[name]!([a, b]);
    functions[name]!([]);
  }
});

test.run();
