// `ack after_workflow` with two runtimes on one PostgreSQL store: the partner's connection waits
// on the runtime it reached, so that runtime must run the workflow and hear its outcome. Every
// rejection reaches the partner as AE (none becomes a positive ACK and a dead letter because the
// other runtime happened to claim the run), and each run is executed by the runtime that
// received its message. Messages from a sender without after_workflow go to whichever is free.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startPgRuntimes, type PgRuntimes } from './pg-runtimes.ts';
import { skipBecause } from '../../harness/skip.ts';
import { adt, field, makePlan, msas, post, sender } from '../inbound/helpers.ts';
import type { Step } from '../../../plan/plan.types.ts';

const S = (line: number) => `c.hdc:${line}:1-${line}:10`;
const ADT: [{ code: string; trigger: string }] = [{ code: 'ADT', trigger: '*' }];
let cluster: PgRuntimes | null = null;

const rejectUnknown: Step = {
  id: 'known', kind: 'if', cond: { op: '==', args: [{ ref: 'mrn' }, { lit: 'NOPE' }] },
  then: [{ id: 'no', kind: 'reject', code: 'AE', text: { template: ['unknown patient ', { ref: 'mrn' }] }, src: S(4) }], src: S(4),
};

test.before(async () => {
  const plan = makePlan([
    sender({ name: 'waits', path: '/hl7/waits', accept: ADT, ack: { mode: 'after_workflow', timeoutMs: 20_000 }, fields: [field('mrn', 'PID-3.1')], routes: [{ types: ADT, workflow: 'check', src: S(2) }] }),
  ], [{ name: 'check', inputs: ['mrn'], steps: [rejectUnknown], src: S(3) }]);
  cluster = await startPgRuntimes('after_workflow', plan, 2);
});

test.after(async () => {
  await cluster?.stop();
});

test('each rejection reaches its partner as AE; each run runs where its message arrived', async () => {
  if (!cluster) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const { pool, children } = cluster;
  const sent: Array<{ cid: string; to: number; mrn: string; code: string }> = [];
  // Two partners per runtime, alternating known and unknown patients, all at once.
  await Promise.all([0, 1, 2, 3].map(async (p) => {
    for (let i = 0; i < 12; i++) {
      const cid = `AW-${p}-${i}`;
      const to = p % 2;
      const mrn = i % 2 ? 'NOPE' : `MRN${p}${i}`;
      const body = adt({ controlId: cid }).replace('PID|1||12345^^^ACME^MR', `PID|1||${mrn}^^^ACME^MR`);
      const r = await post(`${children[to]!.url}/hl7/waits`, body);
      sent.push({ cid, to, mrn, code: msas(r.text)[0]!.code });
    }
  }));
  for (const s of sent) assert.is(s.code, s.mrn === 'NOPE' ? 'AE' : 'AA', `${s.cid} to runtime ${s.to}`);
  const runs = (await pool.query<{ control_id: string; status: string; claimed_by: string | null; home_runtime: string | null }>(
    `SELECT m.control_id, r.status, r.claimed_by, r.home_runtime FROM workflow_runs r JOIN messages m ON m.id = r.message_id`)).rows;
  assert.is(runs.length, sent.length);
  assert.is(runs.filter((r) => r.status === 'dead').length, 0, 'no rejection became a dead letter');
  // claimed_by is cleared when a run settles on some paths: where it is kept, it is the home.
  for (const r of runs) {
    assert.ok(r.home_runtime, `${r.control_id} has a home`);
    if (r.claimed_by) assert.is(r.claimed_by, r.home_runtime, r.control_id);
  }
  assert.is(new Set(runs.map((r) => r.home_runtime)).size, 2, 'both runtimes received messages');
});

test.run();
