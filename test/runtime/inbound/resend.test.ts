// The resend rule over real HTTP and a real journal: a resend (same sender, same sending system
// MSH-3/MSH-4, same control ID, same message apart from MSH-7) gets the original ACK byte for
// byte and is not processed again; any other message that reuses a control ID is journaled,
// processed and acknowledged (logged and counted), or refused with AR under `control_id_reuse
// reject`. Across a restart, under concurrent posts, and whatever the framing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { adt, makePlan, msas, post, segment, sender, startTestRuntime, workflow, type TestRuntime } from './helpers.ts';
import type { Route } from '../../../plan/plan.types.ts';

const SRC = 'labs.hdc:3:3-3:20';
const routes: Route[] = [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: SRC }];
const plan = makePlan([
  sender({ name: 'lab', path: '/hl7/lab', segmentBreaks: 'any', routes }),
  sender({ name: 'strict', path: '/hl7/strict', controlIdReuse: 'reject', routes }),
], [workflow('w')]);

const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, new Writable({
  write(chunk, _enc, done) {
    for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
    done();
  },
}));

const dataDir = mkdtempSync(join(tmpdir(), 'hdc-resend-'));
let rt: TestRuntime;
const start = () => startTestRuntime(plan, null, { dataDir, log });

test.before(async () => {
  rt = await start();
});
test.after(async () => {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const send = (path: string, body: string) => post(rt.url + path, body);
const rows = (sender: string, controlId: string) =>
  rt.db.prepare('SELECT id, reuse_of, sending_system, ack FROM messages WHERE sender = ? AND control_id = ? ORDER BY id').all(sender, controlId) as
    { id: number; reuse_of: number | null; sending_system: string; ack: string }[];
const runsOf = (controlId: string) =>
  (rt.db.prepare('SELECT COUNT(*) AS n FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id = ?').get(controlId) as { n: number }).n;
/** The same message sent again later: only MSH-7 differs. */
const later = (body: string) => body.replace('|20240101120000||', '|20240101120459||');

test('a resend (new MSH-7 included) gets the original ACK byte for byte and is processed once', async () => {
  const body = adt({ controlId: 'R-1' });
  const first = await send('/hl7/lab', body);
  assert.is(msas(first.text)[0]!.code, 'AA');
  const again = await send('/hl7/lab', later(body));
  assert.ok(again.body.equals(first.body), 'the original ACK, byte for byte');
  const crlf = await send('/hl7/lab', body.replace(/\r/g, '\r\n'));
  assert.ok(crlf.body.equals(first.body), 'other segment breaks: still the same message');
  assert.is(rows('lab', 'R-1').length, 1);
  assert.is(runsOf('R-1'), 1);
});

test('a different message reusing a control ID is journaled, processed and acknowledged; the reuse is logged without PHI and counted', async () => {
  const before = rt.traffic.totals.reusedControlIds;
  const first = await send('/hl7/lab', adt({ controlId: 'R-2' }));
  const other = await send('/hl7/lab', adt({ controlId: 'R-2', extra: 'NTE|1||another order' }));
  assert.is(msas(other.text)[0]!.code, 'AA');
  assert.is(msas(other.text)[0]!.controlId, 'R-2');
  assert.is.not(other.text, first.text);
  const stored = rows('lab', 'R-2');
  assert.is(stored.length, 2);
  assert.equal(stored.map((r) => r.reuse_of), [null, stored[0]!.id]);
  assert.is(stored[1]!.ack, other.text);
  assert.is(runsOf('R-2'), 2);
  assert.is(rt.traffic.totals.reusedControlIds, before + 1);
  const line = lines.find((l) => l.msg === 'control ID reused by a different message; journaled as a new message' && l.messageId === stored[1]!.id);
  assert.ok(line, 'a warning names the journal ids');
  assert.is(line!.reuseOf, stored[0]!.id);
  assert.not.match(JSON.stringify(line), /R-2|DOE|12345/);
  // The reusing message's own resend is recognised too.
  const again = await send('/hl7/lab', later(adt({ controlId: 'R-2', extra: 'NTE|1||another order' })));
  assert.ok(again.body.equals(other.body));
  assert.is(rows('lab', 'R-2').length, 2);
});

test('another sending system (MSH-3/MSH-4) behind the same sender numbers its own messages: not a resend, not a reuse', async () => {
  const before = rt.traffic.totals.reusedControlIds;
  await send('/hl7/lab', adt({ controlId: 'R-3', app: 'LABSYS', facility: 'LABCORP' }));
  const other = await send('/hl7/lab', adt({ controlId: 'R-3', app: 'PATHSYS', facility: 'LABCORP' }));
  const third = await send('/hl7/lab', adt({ controlId: 'R-3', app: 'LABSYS', facility: 'WEST' }));
  assert.is(msas(other.text)[0]!.code, 'AA');
  assert.is(segment(other.text, 'MSH')![4], 'PATHSYS');
  assert.is(segment(third.text, 'MSH')![5], 'WEST');
  assert.equal(rows('lab', 'R-3').map((r) => [r.sending_system, r.reuse_of]), [['LABSYS|LABCORP', null], ['PATHSYS|LABCORP', null], ['LABSYS|WEST', null]]);
  assert.is(rt.traffic.totals.reusedControlIds, before);
});

test('control_id_reuse reject: a reuse is answered AR 205 and not journaled; a resend still gets the original ACK', async () => {
  const before = rt.traffic.totals.reusedControlIds;
  const body = adt({ controlId: 'S-1' });
  const first = await send('/hl7/strict', body);
  assert.is(msas(first.text)[0]!.code, 'AA');
  const reuse = await send('/hl7/strict', adt({ controlId: 'S-1', extra: 'NTE|1||changed' }));
  assert.is(reuse.status, 200);
  assert.equal([msas(reuse.text)[0]!.code, msas(reuse.text)[0]!.controlId], ['AR', 'S-1']);
  const err = segment(reuse.text, 'ERR')!;
  assert.match(err.join('|'), /205/);
  assert.match(err.join('|'), /MSH\^1\^10/);
  assert.is(rows('strict', 'S-1').length, 1);
  assert.is(rt.traffic.totals.reusedControlIds, before + 1);
  const again = await send('/hl7/strict', later(body));
  assert.ok(again.body.equals(first.body));
  // Another sending system is not a reuse, even here.
  const otherSystem = await send('/hl7/strict', adt({ controlId: 'S-1', app: 'PATHSYS' }));
  assert.is(msas(otherSystem.text)[0]!.code, 'AA');
  assert.is(rows('strict', 'S-1').length, 2);
});

test('concurrent posts of one control ID: resends share one row and one ACK; different messages each get their own', async () => {
  const body = adt({ controlId: 'C-1' });
  const same = await Promise.all(Array.from({ length: 8 }, (_, i) => send('/hl7/lab', i % 2 ? later(body) : body)));
  assert.is(new Set(same.map((r) => r.text)).size, 1);
  assert.is(rows('lab', 'C-1').length, 1);
  assert.is(runsOf('C-1'), 1);
  const before = rt.traffic.totals.reusedControlIds;
  const different = await Promise.all(Array.from({ length: 8 }, (_, i) => send('/hl7/lab', adt({ controlId: 'C-2', extra: `NTE|1||order ${i}` }))));
  assert.ok(different.every((r) => msas(r.text)[0]!.code === 'AA'));
  assert.is(new Set(different.map((r) => r.text)).size, 8);
  const stored = rows('lab', 'C-2');
  assert.is(stored.length, 8);
  assert.is(stored.filter((r) => r.reuse_of !== null).length, 7);
  assert.is(runsOf('C-2'), 8);
  assert.is(rt.traffic.totals.reusedControlIds, before + 7);
  // A batch body holding a message twice and a reuse: one row for the twice-sent one.
  const batch = adt({ controlId: 'C-3' }) + adt({ controlId: 'C-3' }) + adt({ controlId: 'C-3', extra: 'NTE|1||x' });
  const r = await send('/hl7/lab', batch);
  const acks = r.text.split(/(?=MSH\|)/);
  assert.is(acks.length, 3);
  assert.is(acks[0], acks[1]);
  assert.is(rows('lab', 'C-3').length, 2);
});

test('across a restart: a resend gets the ACK stored before it, a reuse is a new message', async () => {
  const body = adt({ controlId: 'X-1' });
  const first = await send('/hl7/lab', body);
  await rt.close();
  rt = await start();
  const again = await send('/hl7/lab', later(body));
  assert.ok(again.body.equals(first.body));
  const reuse = await send('/hl7/lab', adt({ controlId: 'X-1', extra: 'NTE|1||after restart' }));
  assert.is(msas(reuse.text)[0]!.code, 'AA');
  assert.is(rows('lab', 'X-1').length, 2);
  assert.is(runsOf('X-1'), 2);
  assert.is(rt.traffic.totals.reusedControlIds, 1);
});

test.run();
