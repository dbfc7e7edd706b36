// "Silent for longer than usual": each sender's usual gap comes from the minute rollups (gaps
// between minutes with traffic, 90th percentile), a sender is flagged past three usual gaps (never
// within five minutes), and one with too few arrivals is never flagged. Times are given, not waited for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { migrations } from '../../../modules/monitoring/monitoring-schema.ts';
import { MINUTE, Rollups } from '../../../modules/monitoring/rollups.ts';
import { sqliteSql } from '../../../runtime/store/shared-sql.ts';
import { SenderRhythm, usualGap, silentTooLong, FLOOR_MS } from '../../../modules/monitoring/sender-rhythm.ts';
import { overviewData } from '../../../modules/monitoring/dashboard/overview-data.ts';
import { overviewTables } from '../../../modules/monitoring/dashboard/pages.ts';

const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2024, 0, 8, 0, 0, 0);

test('usual gap: the 90th percentile of the gaps between minutes with traffic; unknown with few arrivals', () => {
  const every10 = Array.from({ length: 20 }, (_, i) => T0 + i * 10 * MINUTE);
  assert.is(usualGap(every10), 10 * MINUTE);
  // One long pause among many short gaps is not what is usual.
  assert.is(usualGap([...every10, T0 + 20 * 10 * MINUTE + 5 * HOUR]), 10 * MINUTE);
  assert.is(usualGap(every10.slice(0, 4)), undefined);
  assert.not.ok(silentTooLong(T0, undefined, T0 + 30 * 86_400_000), 'no rhythm known: never flagged');
  assert.not.ok(silentTooLong(null, MINUTE, T0));
  assert.not.ok(silentTooLong(T0, MINUTE, T0 + FLOOR_MS), 'never within the floor');
  assert.ok(silentTooLong(T0, MINUTE, T0 + FLOOR_MS + 1));
  assert.not.ok(silentTooLong(T0, 10 * MINUTE, T0 + 30 * MINUTE));
  assert.ok(silentTooLong(T0, 10 * MINUTE, T0 + 30 * MINUTE + 1));
});

test('the overview flags a sender silent for longer than its own rhythm, from the rollups', async () => {
  const db = openDatabase(':memory:', { migrations: [...coreMigrations, ...migrations] });
  const sql = sqliteSql(db);
  const rollups = new Rollups(sql);
  // lab: every 10 minutes for 6 hours. feed: a burst of 50 messages at the top of each hour for a
  // day. rare: three messages. quiet: declared, never sent.
  for (let t = T0; t < T0 + 6 * HOUR; t += 10 * MINUTE) rollups.countMessage('lab', 'ADT^A01', 'AA', t, 5);
  for (let h = 0; h < 24; h++) for (let i = 0; i < 50; i++) rollups.countMessage('feed', 'ORU^R01', 'AA', T0 + h * HOUR + i * 100, 5);
  for (let i = 0; i < 3; i++) rollups.countMessage('rare', 'ADT^A04', 'AA', T0 + i * HOUR, 5);
  await rollups.flush();
  const labLast = T0 + 6 * HOUR - 10 * MINUTE;
  const feedLast = T0 + 23 * HOUR + 49 * 100;
  const at = async (now: number) => {
    const d = await overviewData({ rollups, sql, declaredSenders: ['lab', 'feed', 'rare', 'quiet'], rhythm: new SenderRhythm(rollups), launches: false }, '24h', now);
    return new Map(d.senders.map((s) => [s.sender, s]));
  };
  // Twenty minutes after lab's last message: within its rhythm (3 × 10 min).
  let s = await at(labLast + 20 * MINUTE);
  assert.is(s.get('lab')!.usualGapMs, 10 * MINUTE);
  assert.is(s.get('lab')!.silent, false);
  s = await at(labLast + 31 * MINUTE);
  assert.is(s.get('lab')!.silent, true, 'three usual gaps passed');
  // feed's bursts are one arrival an hour: two hours after the last burst is usual, four is not.
  s = await at(feedLast + 2 * HOUR);
  assert.is(s.get('feed')!.usualGapMs, HOUR);
  assert.is(s.get('feed')!.silent, false);
  s = await at(feedLast + 3 * HOUR + MINUTE);
  assert.is(s.get('feed')!.silent, true);
  assert.is(s.get('rare')!.usualGapMs, null, 'three arrivals: rhythm unknown');
  assert.is(s.get('rare')!.silent, false);
  assert.is(s.get('quiet')!.lastMessageAt, null);
  assert.is(s.get('quiet')!.silent, false);
  // The flag and the usual gap are rendered in the senders table; no launches panel without launches.
  const d = await overviewData({ rollups, sql, declaredSenders: ['lab', 'feed'], rhythm: new SenderRhythm(rollups), launches: false }, '24h', feedLast + 4 * HOUR);
  const html = overviewTables(d);
  assert.match(html.senders, /data-sender="feed">.*data-stat="usual-gap">1 h<.*silent for longer than usual/);
  assert.is(html.launches, undefined);
  db.close();
});

test.run();
