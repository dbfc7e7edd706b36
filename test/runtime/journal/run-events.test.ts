// Waiting for a run's outcome: a claimed wait outlives its timeout (the outcome is on its way);
// an unclaimed one ends at the timeout, or at once when the next attempt is due after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RunEvents } from '../../../runtime/journal/run-events.ts';

test('an unclaimed wait ends at its timeout; a claimed one gets the outcome after it', async () => {
  const events = new RunEvents();
  assert.is(events.claim(1), false, 'nobody waits for run 1');
  assert.is(await events.waitForFinished(1, 30), null);
  assert.is(events.claim(1), false, 'the timed-out wait is gone');

  const wait = events.waitForFinished(2, 30);
  assert.is(events.claim(2), true);
  // Past the timeout: the claimed wait still holds.
  await new Promise<void>((resolve) => setTimeout(resolve, 80));
  events.emit('finished', { runId: 2, status: 'rejected', outcome: { code: 'AE', text: 'no' } });
  assert.equal(await wait, { runId: 2, status: 'rejected', outcome: { code: 'AE', text: 'no' } });
});

test('a wait ends at once when the next attempt is due after its timeout, not when it is due before', async () => {
  const events = new RunEvents();
  const late = events.waitForFinished(3, 60_000);
  const soon = events.waitForFinished(4, 60_000);
  const started = Date.now();
  events.emit('retrying', { runId: 3, attempt: 1, nextAttemptAt: Date.now() + 120_000 });
  events.emit('retrying', { runId: 4, attempt: 1, nextAttemptAt: Date.now() + 10 });
  assert.is(await late, null);
  assert.ok(Date.now() - started < 1000);
  events.emit('finished', { runId: 4, status: 'done' });
  assert.equal(await soon, { runId: 4, status: 'done' });
  // A wait that starts after the retry was announced knows it too.
  assert.is(await events.waitForFinished(3, 60_000), null);
});

test.run();
