// `hdc runs`: list with filters and the dead-letter count, show one run (its attempts; PHI masked
// unless --phi; message type and control ID shown), replay a dead letter (who replayed, recorded).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import runs from '../../../cli/commands/runs.ts';
import { Engine } from '../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';
import { databasePath, openDatabase, type Database } from '../../../runtime/journal/open-database.ts';
import { api, enqueue, journalFor, lit, op, plan, ref, src, tpl, workflow } from './fixtures.ts';

let dir: string;
let db: Database;
const ids: Record<string, number> = {};

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a) => void out.push(a.join(' '));
  console.error = (...a) => void err.push(a.join(' '));
  try {
    const code = await runs.run([...args, '--data', dir]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-runs-cli-'));
  db = openDatabase(databasePath(dir));
  const server = createServer((req, res) => res.writeHead(req.url!.includes('bad') ? 404 : 200, { 'content-type': 'application/json' }).end('{"secret":"Jane Doe"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const p = plan({
    apis: [api('x', 'rest', base)],
    workflows: [
      workflow('w', [
        { id: 'get', named: true, kind: 'rest', api: 'x', method: 'GET', urlPath: tpl('/', ref('path')), src: src(3) },
        { id: 'r', kind: 'if', cond: op('==', ref('path'), lit('reject')), then: [{ id: 'no', kind: 'reject', code: 'AE', text: tpl('no for ', ref('name')), src: src(4) }], src: src(4) },
      ]),
    ],
  });
  const journal = journalFor(db);
  const events = new RunEvents();
  const engine = new Engine({ db, plan: p, events });
  engine.start();
  [ids.done] = enqueue(journal, [{ workflow: 'w', fields: { path: 'ok', name: 'Jane Doe' } }], { sender: 'lab' });
  [ids.dead] = enqueue(journal, [{ workflow: 'w', fields: { path: 'bad', name: 'John Roe' } }], { sender: 'er' });
  [ids.rejected] = enqueue(journal, [{ workflow: 'w', fields: { path: 'reject', name: 'Ann Poe' } }], { sender: 'lab' });
  const waits = Object.values(ids).map((id) => events.waitForFinished(id, 10_000));
  // Nobody waits for this one to put its rejection in an ACK: the partner had its AA already.
  [ids.afterAck] = enqueue(journal, [{ workflow: 'w', fields: { path: 'reject', name: 'Bo Lee' } }], { sender: 'er' });
  const unheard = new Promise<void>((resolve) => events.on('finished', (e) => e.runId === ids.afterAck && resolve()));
  engine.pump();
  await Promise.all([...waits, unheard]);
  await engine.stop();
  server.close();
});
test.after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('lists runs newest first, filtered by status, sender and time', async () => {
  const all = await cli();
  assert.is(all.code, 0);
  const lines = all.out.split('\n');
  assert.match(lines[0], /^ID\s+WORKFLOW\s+SENDER\s+MESSAGE\s+CONTROL ID\s+STATUS/);
  assert.equal(lines.slice(1, 5).map((l) => Number(l.split(/\s+/)[0])), [ids.afterAck, ids.rejected, ids.dead, ids.done]);
  assert.match(all.out, /rejected AE/);
  // Message type and control ID are not PHI: listed by default.
  assert.match(lines[2], /\sADT\^A01\s+MSG\d+-/);
  assert.match(all.out, /dead AE\s+1\s+\S+\s+rejected after acknowledgement \(AE\)/);
  assert.is(lines.at(-1), 'dead letters: 2 (1 rejected after acknowledgement)');
  assert.match(all.out, /flows\/admit\.hdc:3: GET x \/\{…\} failed: 404/);
  const dead = JSON.parse((await cli('--status', 'dead', '--json')).out);
  assert.equal(dead.map((r: { id: number }) => r.id), [ids.afterAck, ids.dead]);
  const afterAck = JSON.parse((await cli('--rejected-after-ack', '--json')).out);
  assert.equal(afterAck.map((r: { id: number }) => r.id), [ids.afterAck]);
  assert.not.match((await cli('--sender', 'lab')).out, /dead letters/, 'no dead letters for lab: no count line');
  const lab = JSON.parse((await cli('--sender', 'lab', '--status', 'done,rejected', '--json')).out);
  assert.equal(lab.map((r: { id: number }) => r.id), [ids.rejected, ids.done]);
  assert.is((await cli('--since', '1h', '--json')).out.includes(`"id": ${ids.done}`), true);
  assert.is((await cli('--since', '2999-01-01')).out, 'no runs');
  assert.is((await cli('--sender', 'er', '--since', '2999-01-01')).out, 'no runs');
});

test('show masks PHI unless --phi', async () => {
  const masked = await cli('show', String(ids.rejected));
  assert.is(masked.code, 0);
  assert.match(masked.out, /status\s+rejected AE/);
  assert.match(masked.out, /message \d+: ADT\^A01 control ID MSG\d+-/);
  assert.match(masked.out, /"type":"ADT","trigger":"A01","controlId":"MSG\d+-/);
  assert.match(masked.out, /attempts:\n  #1\s+\S+\s+rejected/);
  assert.match(masked.out, /0\s+get\s+rest\s+done\s+\d+ ms HTTP 200/);
  assert.not.match(masked.out, /Ann Poe|no for/);
  assert.not.match(masked.out, /Jane Doe/);
  const phi = await cli('show', String(ids.rejected), '--phi');
  assert.match(phi.out, /no for Ann Poe/);
  assert.match(phi.out, /"name":"Ann Poe"/);
  assert.match(phi.out, /"secret":"Jane Doe"/);
  const json = JSON.parse((await cli('show', String(ids.dead), '--json')).out);
  assert.is(json.status, 'dead');
  assert.is(json.steps[0].status, 'failed');
  assert.match(json.steps[0].error, /404/);
  assert.is(json.input.fields.name, '•••(8)');
  assert.equal(json.attemptHistory.map((a: { attempt: number; status: string; step: string; api: string; httpStatus: number }) => [a.attempt, a.status, a.step, a.api, a.httpStatus]), [[1, 'dead', '0', 'x', 404]]);
  assert.match(json.attemptHistory[0].error, /failed: 404/);
});

test('replay requeues a dead letter, and only dead or failed runs', async () => {
  const r = await cli('replay', String(ids.dead), '--by', 'j.smith');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /queued again, replayed by j\.smith/);
  const row = db.prepare('SELECT status, attempts, error FROM workflow_runs WHERE id = ?').get(ids.dead) as { status: string; attempts: number; error: string | null };
  assert.equal(row, { status: 'queued', attempts: 1, error: null }, 'the attempt count goes on');
  const shown = await cli('show', String(ids.dead));
  assert.match(shown.out, /#1\s+\S+\s+dead\s+step 0 \(x\) HTTP 404\n.*404 Not Found\n  replayed\s+\S+\s+by j\.smith after attempt 1/);
  // Without --by, the operating-system user is recorded.
  assert.is((await cli('replay', String(ids.afterAck))).code, 0);
  const replays = JSON.parse((await cli('show', String(ids.afterAck), '--json')).out).replays;
  assert.is(replays.length, 1);
  assert.is(replays[0].by, userInfo().username);
  const again = await cli('replay', String(ids.done));
  assert.is(again.code, 1);
  assert.match(again.err, /run \d+ is done; only dead or failed runs can be replayed/);
  assert.is((await cli('show', '9999')).code, 1);
});

test.run();
