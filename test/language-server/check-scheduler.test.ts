// The debounce and cancellation rules of project checks, with real timers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckScheduler, type CheckToken } from '../../language-server/check-scheduler.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('edits within the quiet period collapse into one check', async () => {
  const runs: string[] = [];
  const s = new CheckScheduler((p) => void runs.push(p), 30);
  for (let i = 0; i < 10; i++) {
    s.schedule('a');
    await sleep(5);
  }
  assert.ok(s.isPending('a'));
  await sleep(80);
  assert.equal(runs, ['a']);
  s.dispose();
});

test('projects are debounced independently', async () => {
  const runs: string[] = [];
  const s = new CheckScheduler((p) => void runs.push(p), 20);
  s.schedule('a');
  s.schedule('b');
  await sleep(60);
  assert.equal(runs.sort(), ['a', 'b']);
  s.dispose();
});

test('a check still running when a new edit arrives is told it is stale', async () => {
  const tokens: CheckToken[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const s = new CheckScheduler(async (_p, token) => {
    tokens.push(token);
    if (tokens.length === 1) await gate;
  }, 10);
  s.schedule('a');
  await sleep(30);
  assert.is(tokens.length, 1);
  assert.is(tokens[0]!.cancelled, false);
  s.schedule('a');
  assert.is(tokens[0]!.cancelled, true, 'the running check sees the newer edit');
  release();
  await sleep(40);
  assert.is(tokens.length, 2);
  assert.is(tokens[1]!.cancelled, false);
  s.dispose();
});

test('an explicit delay of 0 checks at once; dispose cancels what is pending', async () => {
  const runs: string[] = [];
  const s = new CheckScheduler((p) => void runs.push(p), 1000);
  s.schedule('now', 0);
  await sleep(15);
  assert.equal(runs, ['now']);
  s.schedule('later');
  s.dispose();
  await sleep(20);
  assert.equal(runs, ['now']);
});

test.run();
