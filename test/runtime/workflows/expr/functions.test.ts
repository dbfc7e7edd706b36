import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { functionNames, functions } from '../../../../runtime/workflows/expr/functions.ts';

test('the function set is exactly the language one', () => {
  const expected = 'first last count exists empty lower upper trim coalesce join split concat substring replace number string date datetime format_date now today contains has_scope starts_with ends_with sum min max distinct uuid er7 flatten distinct_by when'.split(' ');
  assert.equal([...functionNames].sort(), [...expected].sort());
  assert.ok(Object.isFrozen(functionNames));
});

test('has_scope: v1 and v2, wildcards, permission subsets, narrowing', () => {
  const f = functions.has_scope!;
  const granted = ['launch', 'patient/Patient.read', 'patient/*.rs', 'user/Coverage.cruds', 'patient/Observation.rs?category=vital-signs'];
  assert.is(f([granted, 'patient/Patient.rs']), true);
  assert.is(f([granted, 'patient/Coverage.rs']), true, 'patient/*.rs');
  assert.is(f([granted, 'patient/Coverage.c']), false);
  assert.is(f([granted, 'user/Coverage.rs']), true, '.cruds covers .rs');
  assert.is(f([granted, 'user/Patient.r']), false, 'user/ is not patient/');
  assert.is(f([granted.join(' '), 'launch']), true, 'space-separated text');
  assert.is(f([['patient/Observation.rs?category=vital-signs'], 'patient/Observation.rs']), false, 'a narrowed grant does not cover the whole type');
  assert.is(f([null, 'patient/Patient.rs']), false);
});

test('every function is total on absent and odd arguments', () => {
  const odd: unknown[] = [null, undefined, 0, '', 'x', [], [null], {}, true, NaN];
  for (const name of functionNames) {
    for (const a of odd) for (const b of odd) functions[name]!([a, b]);
    functions[name]!([]);
  }
});

test.run();
