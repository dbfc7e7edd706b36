// Value map lookups at run time, as plan expressions and directly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate } from '../../../../runtime/workflows/expr/evaluate.ts';
import { applyValueMap } from '../../../../runtime/workflows/expr/value-map.ts';
import type { ValueMap } from '../../../../plan/plan.types.ts';

const gender: ValueMap = { name: 'gender', table: [['F', 'female'], ['M', 'male'], ['1', 'one']], else: 'unknown', src: 'm.hdc:1:1-1:9' };
const strict: ValueMap = { name: 'strict', table: [['A', 'a']], src: 'm.hdc:2:1-2:9' };

test('listed inputs map; others take else, or null without it', () => {
  assert.is(applyValueMap(gender, 'F'), 'female');
  assert.is(applyValueMap(gender, 'X'), 'unknown');
  assert.is(applyValueMap(strict, 'B'), null);
  assert.is(applyValueMap(gender, 'f'), 'unknown', 'inputs compare as written');
  assert.is(applyValueMap(gender, 1), 'one', 'numbers compare as their text');
});

test('absent inputs stay null, even with else; lists map item by item', () => {
  assert.is(applyValueMap(gender, null), null);
  assert.is(applyValueMap(gender, ''), null);
  assert.equal(applyValueMap(gender, ['M', 'Z', null]), ['male', 'unknown', null]);
});

test('a map expression evaluates its argument in scope', () => {
  const scope = { vars: { sex: 'M', none: null } };
  assert.is(evaluate({ map: gender, args: [{ ref: 'sex' }] }, scope), 'male');
  assert.is(evaluate({ map: gender, args: [{ ref: 'none' }] }, scope), null);
  assert.is(evaluate({ map: gender, args: [] }, scope), null);
});

test.run();
