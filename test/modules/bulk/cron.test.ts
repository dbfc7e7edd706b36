// The five-field cron of `schedule "…"`: what it accepts, where it points at a mistake, and the
// next time it matches (UTC).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nextCron, parseCron, type Cron } from '../../../modules/bulk/cron.ts';

const at = (iso: string) => Date.parse(iso);
const cron = (text: string): Cron => {
  const c = parseCron(text);
  if ('error' in c) throw new Error(c.error);
  return c;
};

test('the next time of daily, stepped, listed and weekday expressions', () => {
  assert.is(new Date(nextCron(cron('0 2 * * *'), at('2024-03-01T01:59:00Z'))).toISOString(), '2024-03-01T02:00:00.000Z');
  assert.is(new Date(nextCron(cron('0 2 * * *'), at('2024-03-01T02:00:00Z'))).toISOString(), '2024-03-02T02:00:00.000Z');
  assert.is(new Date(nextCron(cron('*/15 * * * *'), at('2024-03-01T10:16:30Z'))).toISOString(), '2024-03-01T10:30:00.000Z');
  assert.is(new Date(nextCron(cron('30 6,18 * * *'), at('2024-03-01T07:00:00Z'))).toISOString(), '2024-03-01T18:30:00.000Z');
  // 2024-03-01 is a Friday; Monday (1) and Sunday as 7 both work.
  assert.is(new Date(nextCron(cron('0 0 * * 1'), at('2024-03-01T00:00:00Z'))).toISOString(), '2024-03-04T00:00:00.000Z');
  assert.is(new Date(nextCron(cron('0 0 * * 7'), at('2024-03-01T00:00:00Z'))).toISOString(), '2024-03-03T00:00:00.000Z');
  assert.is(new Date(nextCron(cron('0 0 29 2 *'), at('2024-03-01T00:00:00Z'))).toISOString(), '2028-02-29T00:00:00.000Z');
});

test('day of month and day of week restricted together: either matches', () => {
  assert.is(new Date(nextCron(cron('0 0 15 * 1'), at('2024-03-01T00:00:00Z'))).toISOString(), '2024-03-04T00:00:00.000Z');
});

test('mistakes name the field and its place in the text', () => {
  assert.equal(parseCron('0 25 * * *'), { error: 'the hour field "25" is not a number from 0 to 23, a range, a list or */N', at: [2, 4] });
  assert.equal(parseCron('0 2 * *'), { error: 'a cron expression has 5 fields (minute hour day month weekday), not 4', at: [0, 7] });
  assert.ok('error' in parseCron('a * * * *'));
  assert.ok('error' in parseCron('5-1 * * * *'));
  assert.ok('error' in parseCron('*/0 * * * *'));
});

test.run();
