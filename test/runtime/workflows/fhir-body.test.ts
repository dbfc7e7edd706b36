// The stripping rule for FHIR request bodies: nulls, empty and whitespace-only strings, empty
// arrays and empty objects go, recursively; false, 0 and real values stay; primitive arrays keep
// their pairing with the `_name` array of ids and extensions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stripEmpty } from '../../../runtime/workflows/fhir-body.ts';

test('absent HL7 fields leave nothing behind', () => {
  const body = {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:mrn', value: 'M1' }, { system: 'urn:ssn', value: null }],
    name: [{ family: 'Doe', given: [null, ''] }],
    telecom: [{ system: 'phone', value: null }],
    birthDate: null,
    address: [{ line: [' '], city: null }],
    extension: [],
    meta: {},
    active: false,
    multipleBirthInteger: 0,
  };
  assert.equal(stripEmpty(body), {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:mrn', value: 'M1' }, { system: 'urn:ssn' }],
    name: [{ family: 'Doe' }],
    telecom: [{ system: 'phone' }],
    active: false,
    multipleBirthInteger: 0,
  });
});

test('nothing left gives undefined; values pass through', () => {
  assert.is(stripEmpty({ a: { b: [null, { c: '' }] } }), undefined);
  assert.is(stripEmpty(null), undefined);
  assert.is(stripEmpty('x'), 'x');
  assert.equal(stripEmpty(['a', null, 'b']), ['a', 'b']);
});

test('primitive arrays stay paired with their _name arrays', () => {
  const ext = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] };
  assert.equal(stripEmpty({ given: ['A', null, 'C'], _given: [null, null, ext] }), { given: ['A', 'C'], _given: [null, ext] });
  assert.equal(stripEmpty({ given: [null, 'B'], _given: [ext, null] }), { given: [null, 'B'], _given: [ext, null] });
  assert.equal(stripEmpty({ given: [null], _given: [ext] }), { _given: [ext] });
  assert.equal(stripEmpty({ given: ['A', null], _given: [null, {}] }), { given: ['A'] });
});

test.run();
