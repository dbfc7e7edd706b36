// The sender setting `timezone`: an IANA name known to the zone data, checked at compile time
// with a "did you mean" fix; offsets are refused (they do not follow daylight saving time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../compiler/api.ts';
import { explainPlan } from '../../compiler/explain/explain.ts';

const sender = (zone: string) => `sender s {\n  path "/hl7/s"\n  accept ADT^A08\n  timezone ${zone}\n}\n`;
const compile = (zone: string) => compileSources(new Map([['t.hdc', sender(zone)]]));

test('a known zone reaches the plan', () => {
  const { plan, diagnostics } = compile('"Asia/Kolkata"');
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.is(plan!.senders[0]!.timezone, 'Asia/Kolkata');
  assert.is(compile('"UTC"').plan!.senders[0]!.timezone, 'UTC');
});

test('a misspelt zone: HDC2051 on the string, with the closest name as a fix', () => {
  const { plan, diagnostics } = compile('"America/New_Yrok"');
  assert.is(plan, undefined);
  const [d] = diagnostics;
  assert.is(d!.code, 'HDC2051');
  assert.is(d!.summary, 'unknown time zone "America/New_Yrok"');
  assert.match(d!.detail, /IANA time zone name/);
  assert.equal([d!.range.start.line, d!.range.start.col, d!.range.end.col], [4, 12, 30]);
  assert.equal(d!.suggestions?.map((s) => s.replacement), ['"America/New_York"']);
});

test('an offset or a non-string is refused', () => {
  assert.is(compile('"+01:00"').diagnostics[0]!.summary, 'unknown time zone "+01:00"');
  assert.is(compile('Europe').diagnostics[0]!.code, 'HDC2041');
});

test('hdc explain shows the time zone and the validation of an API', () => {
  const { plan } = compileSources(new Map([['t.hdc', `api ehr fhir "https://ehr.example.org/R4" { validate fhir }\n${sender('"Europe/London"')}`]]));
  const text = explainPlan(plan!);
  assert.match(text, /Europe\/London \(date-times without an offset get its offset\)/);
  assert.match(text, /request bodies validated against FHIR R4/);
});

test.run();
