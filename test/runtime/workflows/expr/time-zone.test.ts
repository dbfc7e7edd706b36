// Date-times of a sender's time zone: the offset in force at the wall time, on each side of a
// daylight saving change, in the repeated hour (the earlier instant) and the skipped hour (moved
// forward by the gap); a value's own offset wins; dates stay dates and precision is kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toDate, toDatetime } from '../../../../runtime/workflows/expr/convert.ts';
import { isTimeZone, resolveWallTime } from '../../../../runtime/workflows/expr/time-zone.ts';

const LONDON = 'Europe/London';
const NEW_YORK = 'America/New_York';

test('winter and summer sides of a transition get their own offsets', () => {
  // London springs forward on 2024-03-31 at 01:00 UTC, falls back on 2024-10-27 at 01:00 UTC.
  assert.is(toDatetime('20240330093000', LONDON), '2024-03-30T09:30:00+00:00');
  assert.is(toDatetime('20240331093000', LONDON), '2024-03-31T09:30:00+01:00');
  assert.is(toDatetime('20241026093000', LONDON), '2024-10-26T09:30:00+01:00');
  assert.is(toDatetime('20241027093000', LONDON), '2024-10-27T09:30:00+00:00');
  // New York: 2024-03-10 02:00 local → 03:00; 2024-11-03 02:00 local → 01:00.
  assert.is(toDatetime('202403092300', NEW_YORK), '2024-03-09T23:00:00-05:00');
  assert.is(toDatetime('202403100300', NEW_YORK), '2024-03-10T03:00:00-04:00');
  assert.is(toDatetime('202411040100', NEW_YORK), '2024-11-04T01:00:00-05:00');
  // The minute before and after the change.
  assert.is(toDatetime('202403310059', LONDON), '2024-03-31T00:59:00+00:00');
  assert.is(toDatetime('202403310200', LONDON), '2024-03-31T02:00:00+01:00');
});

test('a repeated wall time (clocks go back) takes the earlier instant', () => {
  assert.is(toDatetime('202410270130', LONDON), '2024-10-27T01:30:00+01:00');
  assert.is(toDatetime('202411030130', NEW_YORK), '2024-11-03T01:30:00-04:00');
  const r = resolveWallTime(Date.UTC(2024, 9, 27, 1, 30), LONDON);
  assert.is(new Date(r.utcMs).toISOString(), '2024-10-27T00:30:00.000Z');
});

test('a skipped wall time (clocks go forward) moves forward by the gap', () => {
  assert.is(toDatetime('202403310130', LONDON), '2024-03-31T02:30:00+01:00');
  assert.is(toDatetime('202403100230', NEW_YORK), '2024-03-10T03:30:00-04:00');
  // The same instant as the wall time read with the offset before the change.
  assert.is(new Date(resolveWallTime(Date.UTC(2024, 2, 31, 1, 30), LONDON).utcMs).toISOString(), '2024-03-31T01:30:00.000Z');
});

test('a value that carries its own offset keeps it', () => {
  assert.is(toDatetime('20240701093000+0200', LONDON), '2024-07-01T09:30:00+02:00');
  assert.is(toDatetime('2024-07-01T09:30:00Z', LONDON), '2024-07-01T09:30:00Z');
  assert.is(toDatetime('20240101093000-0000', NEW_YORK), '2024-01-01T09:30:00-00:00');
});

test('dates stay dates, precision is kept, a time is written to the second', () => {
  assert.is(toDatetime('2024', LONDON), '2024');
  assert.is(toDatetime('202403', LONDON), '2024-03');
  assert.is(toDatetime('20240320', LONDON), '2024-03-20');
  assert.is(toDate('20240320233000+0000'), '2024-03-20');
  assert.is(toDatetime('2024032009', LONDON), '2024-03-20T09:00:00+00:00');
  assert.is(toDatetime('20240320093015.25', LONDON), '2024-03-20T09:30:15.25+00:00');
  assert.is(toDatetime('20240320093015.25'), '2024-03-20T09:30:15.25');
  assert.is(toDatetime('20240320093000^S', 'Asia/Kolkata'), '2024-03-20T09:30:00+05:30');
  assert.is(toDatetime('not a date', LONDON), null);
});

test('time zone names', () => {
  assert.ok(isTimeZone(LONDON));
  assert.ok(isTimeZone('UTC'));
  assert.not.ok(isTimeZone('Europe/Londres'));
  assert.not.ok(isTimeZone('+01:00'));
  assert.not.ok(isTimeZone(''));
  assert.is(toDatetime('20240320093000', 'UTC'), '2024-03-20T09:30:00+00:00');
});

test.run();
