import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closest, editDistance } from '../../../compiler/dictionaries/closest.ts';

test('edit distance counts a swap of neighbours as one edit and ignores case', () => {
  assert.is(editDistance('PDI', 'PID'), 1);
  assert.is(editDistance('patiant', 'Patient'), 1);
  assert.is(editDistance('Patient', 'PATIENT'), 0);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('ca', 'abc'), 3); // optimal string alignment: no edit of a swapped pair
});

test('edit distance stops early past the limit', () => {
  assert.is(editDistance('Observation', 'Patient', 2), 3);
  assert.is(editDistance('abcdef', 'a', 2), 3);
});

test('closest ranks by distance, anagrams first among equals, and keeps the caller order otherwise', () => {
  assert.equal(closest('Patiant', ['Practitioner', 'Patient', 'Person']), ['Patient']);
  assert.equal(closest('PDI', ['PD1', 'PDA', 'PID']), ['PID', 'PD1', 'PDA']);
  assert.equal(closest('famly', ['family', 'given', 'gender']), ['family']);
  assert.equal(closest('zzzzzz', ['Patient', 'Encounter']), []);
});

test('closest takes prefixes as close, limits the count and honours maxDistance', () => {
  assert.equal(closest('birth', ['address', 'birthdate', 'death-date']), ['birthdate']);
  assert.equal(closest('ab', ['ab', 'abc', 'abd', 'abe'], 2), ['ab', 'abc']);
  assert.equal(closest('abcd', ['abxy'], 3, { maxDistance: 1 }), []);
  assert.equal(closest('abcd', ['abxy'], 3, { maxDistance: 2 }), ['abxy']);
});

test.run();
