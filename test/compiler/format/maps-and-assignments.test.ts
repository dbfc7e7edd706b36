// hdc fmt on value maps, field maps and assignments: one canonical layout, idempotent, comments kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSource } from '../../../compiler/format/format.ts';

const fmt = (text: string): string => {
  const r = formatSource(text, 'inline.hdc');
  assert.equal(r.diagnostics, [], 'no diagnostics');
  return r.text;
};

test('a map written on one line becomes one entry per line, else last', () => {
  const src = 'map   gender to "http://hl7.org/fhir/administrative-gender"{"F":"female", "M" : "male",else:"unknown"}\n';
  const out = fmt(src);
  assert.is(out, [
    'map gender to "http://hl7.org/fhir/administrative-gender" {',
    '  "F": "female"',
    '  "M": "male"',
    '  else: "unknown"',
    '}',
    '',
  ].join('\n'));
  assert.is(fmt(out), out);
});

test('comments inside a map stay with their entries', () => {
  const src = 'map sex {\n  // HL7 table 0001\n  "F": "female" // women\n  "M": "male"\n}\n';
  const out = fmt(src);
  assert.ok(out.includes('  // HL7 table 0001\n  "F": "female" // women\n'), out);
  assert.is(fmt(out), out);
});

test('field maps and assignments keep their syntax', () => {
  const src = [
    'sender s {', '  fields {', '    sex = PID-8   ->   gender', '    races = PID-10[*] -> .1 as list -> race', '  }', '}',
    'workflow w {', '  let a = "one"', '  if a == "one" {', '    a   =   "two"', '  }', '}', '',
  ].join('\n');
  const out = fmt(src);
  assert.ok(out.includes('    sex = PID-8 -> gender\n'), out);
  assert.ok(out.includes('    races = PID-10[*] -> .1 as list -> race\n'), out);
  assert.ok(out.includes('    a = "two"\n'), out);
  assert.ok(out.includes('  let a = "one"\n'), out);
  assert.is(fmt(out), out);
});

test.run();
