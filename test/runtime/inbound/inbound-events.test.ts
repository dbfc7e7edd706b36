// The listener's `message` event, the one feed of traffic for the traffic line and for modules:
// one event per answered message of a request (a batch gives one each), with the ACK code sent,
// the journal row when there is one, and nothing of the message's content.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AnsweredMessage } from '../../../runtime/inbound/inbound-events.ts';
import type { Route } from '../../../plan/plan.types.ts';
import { adt, makePlan, msas, post, sender, startTestRuntime, workflow, type TestRuntime } from './helpers.ts';

const routes: Route[] = [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'w', src: 'x.hdc:1:1-1:2' }];
const plan = makePlan([sender({ name: 'lab', path: '/hl7/lab', routes, accept: [{ code: 'ADT', trigger: 'A01' }] })], [workflow('w')]);
let rt: TestRuntime;
const seen: AnsweredMessage[] = [];

test.before(async () => {
  rt = await startTestRuntime(plan, null);
  rt.inbound.on('message', (m) => seen.push(m));
});
test.after(() => rt.stop());

test('one event per answered message: stored, resent, refused; no control ID or content', async () => {
  const first = adt({ controlId: 'EVT-1' });
  const a = await post(`${rt.url}/hl7/lab`, first);
  assert.is(msas(a.text)[0]!.code, 'AA');
  await post(`${rt.url}/hl7/lab`, first);
  const refused = await post(`${rt.url}/hl7/lab`, adt({ controlId: 'EVT-2', type: 'ORU^R01' }));
  assert.is(msas(refused.text)[0]!.code, 'AR');
  assert.is(seen.length, 3);
  const [stored, resend, rejected] = seen as [AnsweredMessage, AnsweredMessage, AnsweredMessage];
  assert.equal([stored.sender, stored.messageType, stored.ackCode, stored.duplicate], ['lab', 'ADT^A01', 'AA', false]);
  assert.ok(typeof stored.messageId === 'number');
  assert.equal([resend.ackCode, resend.duplicate, resend.messageId], ['AA', true, stored.messageId]);
  assert.equal([rejected.messageType, rejected.ackCode, rejected.messageId], ['ORU^R01', 'AR', undefined]);
  for (const e of seen) {
    assert.ok(e.latencyMs >= 0 && e.receivedAt > 0);
    assert.not.match(JSON.stringify(e), /EVT-/);
  }
});

test.run();
