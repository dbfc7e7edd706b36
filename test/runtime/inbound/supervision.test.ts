// The writer threads are supervised: when the journal's or the engine's writer thread dies,
// /ready turns 503 at once and the listener answers AR "system unavailable"; the thread is
// restarted with backoff and all is well again; when it keeps dying the runtime gives up (the
// `hdc run` process then exits non-zero, see the last test). The threads are killed for real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { adt, makePlan, msas, post, segment, sender, startTestRuntime, workflow, type TestRuntime } from './helpers.ts';
import { Engine } from '../../../runtime/workflows/engine.ts';
import type { RuntimeOptions } from '../../../runtime/platform/start-runtime.ts';

const plan = makePlan([
  sender({ name: 'lab', path: '/hl7/lab', routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'labs.hdc:1:1-1:2' }] }),
], [workflow('w')]);

const ready = async (rt: TestRuntime) => (await post(rt.url + '/ready', '', { method: 'GET', contentType: null })).status;
const countMessages = (rt: TestRuntime, controlId: string) =>
  (rt.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE control_id = ?').get(controlId) as { n: number }).n;

async function withRuntime(over: Partial<RuntimeOptions>, body: (rt: TestRuntime) => Promise<void>): Promise<void> {
  const rt = await startTestRuntime(plan, null, over);
  try {
    await body(rt);
  } finally {
    await rt.stop();
  }
}

test('journal writer killed: /ready 503 at once and AR "system unavailable" while it is down; nothing journaled', async () => {
  // A restart far away: the checks below all happen while the thread is down.
  await withRuntime({ writerRestart: { baseDelayMs: 120_000 } }, async (rt) => {
    assert.is(await ready(rt), 200);
    const thread = rt.journal.thread!;
    const down = once(thread, 'down');
    await thread.worker.terminate();
    await down;
    assert.is(rt.journal.healthy, false);
    assert.is(await ready(rt), 503);
    const r = await post(rt.url + '/hl7/lab', adt({ controlId: 'DOWN-1' }));
    assert.is(r.status, 200);
    assert.is(msas(r.text)[0]!.code, 'AR');
    assert.match(segment(r.text, 'ERR')!.join('|'), /system unavailable/);
    assert.is(countMessages(rt, 'DOWN-1'), 0);
  });
});

test('journal writer killed: restarted with backoff, then ready and acknowledging again', async () => {
  await withRuntime({ writerRestart: { baseDelayMs: 10 } }, async (rt) => {
    const before = await post(rt.url + '/hl7/lab', adt({ controlId: 'UP-1' }));
    const thread = rt.journal.thread!;
    const up = once(thread, 'up');
    await thread.worker.terminate();
    await up;
    assert.is(thread.restarts, 1);
    assert.is(await ready(rt), 200);
    const r = await post(rt.url + '/hl7/lab', adt({ controlId: 'UP-2' }));
    assert.is(msas(r.text)[0]!.code, 'AA');
    assert.is(countMessages(rt, 'UP-2'), 1);
    // What was journaled before the crash is still recognised.
    const resend = await post(rt.url + '/hl7/lab', adt({ controlId: 'UP-1' }));
    assert.ok(resend.body.equals(before.body));
  });
});

test('journal writer that keeps dying: after the bound the runtime reports a fatal error', async () => {
  const fatal: Error[] = [];
  await withRuntime({ writerRestart: { baseDelayMs: 1, maxRestarts: 2 }, onFatal: (err) => void fatal.push(err) }, async (rt) => {
    const thread = rt.journal.thread!;
    for (let i = 0; i < 2; i++) {
      const up = once(thread, 'up');
      await thread.worker.terminate();
      await up;
    }
    const gaveUp = once(thread, 'fatal');
    await thread.worker.terminate();
    await gaveUp;
    assert.is(fatal.length, 1);
    assert.match(fatal[0]!.message, /journal writer thread died 3 times/);
    assert.is(thread.restarts, 2);
    assert.is(await ready(rt), 503);
  });
});

test('engine writer killed: /ready 503 until it is restarted; runs it left running are resumed', async () => {
  await withRuntime({}, async (rt) => {
    const fatal: Error[] = [];
    const engine = new Engine({ db: rt.db, plan, events: rt.events, writerRestart: { baseDelayMs: 10 }, onFatal: (err) => void fatal.push(err) });
    engine.start();
    rt.addService({ stop: () => engine.stop(), ready: () => engine.writerUp });
    // A run whose end could not be written when the thread died: still marked running.
    const stored = await post(rt.url + '/hl7/lab', adt({ controlId: 'ORPHAN-1' }));
    assert.is(msas(stored.text)[0]!.code, 'AA');
    await engine.idle();
    rt.db.prepare(`UPDATE workflow_runs SET status = 'running' WHERE message_id = (SELECT id FROM messages WHERE control_id = 'ORPHAN-1')`).run();
    const thread = engine.writerThread!;
    const down = once(thread, 'down');
    const up = once(thread, 'up');
    const resumed = once(rt.events, 'finished');
    await thread.worker.terminate();
    await down;
    assert.is(engine.writerUp, false);
    await up;
    assert.is(await ready(rt), 200);
    assert.is((await resumed)[0].status, 'done');
    // The restarted thread writes: a message's run is taken and finished.
    const finished = once(rt.events, 'finished');
    const r = await post(rt.url + '/hl7/lab', adt({ controlId: 'ENG-1' }));
    assert.is(msas(r.text)[0]!.code, 'AA');
    const [event] = await finished;
    assert.is((event as { status: string }).status, 'done');
    assert.equal(fatal, []);
  });
});

test('by default a fatal error ends the process with a non-zero code', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fatal-exit-child.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  const [code] = await once(child, 'exit');
  assert.is(code, 70);
  assert.ok(lines.some((l) => /"level":"fatal"/.test(l) && /exiting so that the supervisor restarts the runtime/.test(l)), lines.join('\n'));
});

test.run();
