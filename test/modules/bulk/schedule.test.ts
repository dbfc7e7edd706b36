// Scheduled exports: `schedule every D` asks for an export each time it comes round (and the
// runtime starts it like one asked for by `hdc bulk start`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scheduler } from '../../../modules/bulk/scheduler.ts';
import type { BulkExportSpec } from '../../../modules/bulk/bulk-plan.ts';
import { parseCron, type Cron } from '../../../modules/bulk/cron.ts';

// The scheduler's timers do not hold the process open (unref): the tests hold it while they wait.
let hold: NodeJS.Timeout;
test.before.each(() => void (hold = setInterval(() => undefined, 1000)));
test.after.each(() => clearInterval(hold));

const spec = (name: string, schedule: BulkExportSpec['schedule']): BulkExportSpec => ({
  name, api: 'ehr', src: 'bulk.hdc:1:1-1:10', level: { kind: 'system' }, types: [], typeFilters: [], elements: [], routes: new Map(),
  concurrency: 1, kickoff: 'get', patients: [], includeAssociatedData: [], ...(schedule ? { schedule } : {}),
});

test('every D asks again and again; blocks without a schedule never', async () => {
  const asked: string[] = [];
  let resolve!: () => void;
  const thrice = new Promise<void>((r) => (resolve = r));
  const s = new Scheduler([spec('often', { everyMs: 20 }), spec('never', undefined)], (name) => {
    asked.push(name);
    if (asked.length === 3) resolve();
  });
  s.start();
  await thrice;
  s.stop();
  assert.equal(asked, ['often', 'often', 'often']);
});

test('a cron schedule fires at its next minute', async () => {
  let now = Date.parse('2024-03-01T01:59:59.990Z');
  const cron = parseCron('0 2 * * *') as Cron;
  const asked = new Promise<number>((resolve) => {
    const s = new Scheduler([spec('nightly', { cron, text: '0 2 * * *' })], () => {
      s.stop();
      resolve(now);
    }, () => now);
    s.start();
    // The clock reaches 02:00 before the timer (10 ms) fires.
    now = Date.parse('2024-03-01T02:00:00.000Z');
  });
  assert.is(new Date(await asked).toISOString(), '2024-03-01T02:00:00.000Z');
});

test.run();
