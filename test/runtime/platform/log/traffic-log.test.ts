// The periodic traffic line: counts by sender, type and ACK code through a real pino logger.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { TrafficLog } from '../../../../runtime/platform/log/traffic-log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('one line per interval with counts by sender, type and ACK code; none when idle', async () => {
  const { lines, log } = capture();
  const traffic = new TrafficLog(log, 80).start();
  traffic.count('lab', 'ORU^R01', 'AA', false);
  traffic.count('lab', 'ORU^R01', 'AA', true);
  traffic.count('lab', 'ADT^A01', 'AR', false);
  traffic.count(null, 'ADT^A01', 'AR', false);
  await wait(130);
  await wait(100);
  traffic.stop();
  const traffic1 = lines.filter((l) => l.msg === 'hl7 traffic');
  assert.is(traffic1.length, 1, 'the idle interval and the empty stop log nothing');
  const line = traffic1[0]!;
  assert.is(line.level, 30);
  assert.is(line.messages, 4);
  assert.is(line.duplicates, 1);
  assert.equal(line.senders, { lab: { 'ORU^R01': { AA: 2 }, 'ADT^A01': { AR: 1 } }, '(none)': { 'ADT^A01': { AR: 1 } } });
  assert.ok((line.seconds as number) > 0);
});

test('stop() logs what was counted since the last line', async () => {
  const { lines, log } = capture();
  const traffic = new TrafficLog(log, 60_000).start();
  traffic.count('lab', 'ORU^R01', 'CA', false);
  traffic.stop();
  await wait(10);
  assert.equal(lines.filter((l) => l.msg === 'hl7 traffic').map((l) => [l.messages, l.senders]), [[1, { lab: { 'ORU^R01': { CA: 1 } } }]]);
});

test('dead letters with a reason are counted on the line, even in an interval without messages', async () => {
  const { lines, log } = capture();
  const events = new RunEvents();
  const traffic = new TrafficLog(log, 60_000).watch(events);
  events.emit('finished', { runId: 1, status: 'dead', reason: 'rejected after acknowledgement' });
  events.emit('finished', { runId: 2, status: 'dead' });
  events.emit('finished', { runId: 3, status: 'rejected', outcome: { code: 'AE' } });
  events.emit('finished', { runId: 4, status: 'dead', reason: 'rejected after acknowledgement' });
  traffic.flush();
  traffic.flush();
  const out = lines.filter((l) => l.msg === 'hl7 traffic');
  assert.is(out.length, 1, 'counted once, then idle');
  assert.equal(out[0]!.deadLetters, { 'rejected after acknowledgement': 2 });
  assert.is(out[0]!.messages, 0);
  traffic.stop();
  events.emit('finished', { runId: 5, status: 'dead', reason: 'rejected after acknowledgement' });
  traffic.flush();
  assert.is(lines.filter((l) => l.msg === 'hl7 traffic').length, 1, 'stop() stops watching');
});

test('runs are counted from the run events: queued, and settled by workflow and status', () => {
  const { lines, log } = capture();
  const events = new RunEvents();
  const traffic = new TrafficLog(log, 60_000).start().watch(events);
  events.emit('enqueued', { runIds: [1, 2, 3], messageId: 1, sender: 'lab' });
  events.emit('finished', { runId: 1, workflow: 'admit', status: 'done' });
  events.emit('finished', { runId: 2, workflow: 'admit', status: 'dead' });
  events.emit('finished', { runId: 3, workflow: 'charges', status: 'rejected', outcome: { code: 'AE', text: 'x' } });
  traffic.flush();
  // A line with runs and no messages still goes out; after stop() events are no longer counted.
  traffic.stop();
  events.emit('finished', { runId: 4, workflow: 'admit', status: 'done' });
  traffic.flush();
  const out = lines.filter((l) => l.msg === 'hl7 traffic');
  assert.is(out.length, 1);
  assert.is(out[0]!.messages, 0);
  assert.equal(out[0]!.runs, { queued: 3, settled: 3, workflows: { admit: { done: 1, dead: 1 }, charges: { rejected: 1 } } });
  assert.is(events.listenerCount('finished'), 1, 'only the RunEvents own listener is left');
});

test.run();
