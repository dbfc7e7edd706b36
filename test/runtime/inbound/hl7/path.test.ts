import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHl7Path, isListPath } from '../../../../compiler/syntax/hl7-path.ts';

const ok = (text: string) => {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(`${text}: ${r.error} at ${r.column}`);
  return r.path;
};
const bad = (text: string) => {
  const r = parseHl7Path(text);
  if (!('error' in r)) throw new Error(`${text} parsed`);
  return r;
};

test('every part after the segment is optional, left to right', () => {
  assert.equal(ok('PID'), { text: 'PID', segment: 'PID' });
  assert.equal(ok('OBX[*]'), { text: 'OBX[*]', segment: 'OBX', segmentRep: '*' });
  assert.equal(ok('PID-3'), { text: 'PID-3', segment: 'PID', field: 3 });
  assert.equal(ok('PID-3[*].4.1'), { text: 'PID-3[*].4.1', segment: 'PID', field: 3, fieldRep: '*', component: 4, subcomponent: 1 });
  assert.equal(ok('OBX[2]-5.1'), { text: 'OBX[2]-5.1', segment: 'OBX', segmentRep: 2, field: 5, component: 1 });
  assert.equal(ok('MSH-9.2'), { text: 'MSH-9.2', segment: 'MSH', field: 9, component: 2 });
  assert.equal(ok('ZX1-12[3]'), { text: 'ZX1-12[3]', segment: 'ZX1', field: 12, fieldRep: 3 });
});

test('an omitted repetition stays unset', () => {
  const p = ok('PID-5.1');
  assert.not.ok('fieldRep' in p);
  assert.not.ok('segmentRep' in p);
});

test('errors carry the column of the offending character', () => {
  assert.equal(bad('pid-3').column, 1);
  assert.equal(bad('PI').column, 3);
  assert.equal(bad('PID3').column, 4);
  assert.equal(bad('PID-0').column, 5);
  assert.equal(bad('PID-03').column, 5);
  assert.equal(bad('PID-3[0]').column, 7);
  assert.equal(bad('PID-3[2').column, 8);
  assert.equal(bad('PID-3.').column, 7);
  assert.equal(bad('PID-3.1.2.4').column, 10);
  assert.equal(bad('PID-').column, 5);
  assert.match(bad('PID-3x').error, /"x"/);
});

test('isListPath', () => {
  assert.ok(isListPath(ok('OBX[*]-5')));
  assert.ok(isListPath(ok('PID-3[*]')));
  assert.not.ok(isListPath(ok('PID-3[2].1')));
});

test.run();
