// The monitoring module's counts from real traffic: HL7 messages POSTed to the listener (accepted,
// refused, a workflow that ends as a dead letter), the per-minute rollups they leave, and the
// Prometheus exposition scraped over HTTP — with no control ID or content in any label.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hl7, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';
import { httpGet, parseExposition, sample } from './scrape.ts';

let api: PartnerApi;
let m: Monitored;
const controlIds: string[] = [];

test.before(async () => {
  api = await startPartnerApi();
  m = await startMonitored(monitoredPlan(api.url, 'metrics { listen "127.0.0.1:0" }'));
  const settled = m.settled(3);
  const send = async (path: string, opts: Parameters<typeof hl7>[0]) => {
    const controlId = `CTL-${controlIds.length}-SECRET`;
    controlIds.push(controlId);
    return m.send(path, hl7({ ...opts, controlId }));
  };
  const codes = [
    await send('/hl7/lab', { family: 'SMITH' }),
    await send('/hl7/lab', { family: 'JONES' }),
    await send('/hl7/lab', { family: 'REJECT' }),
    await send('/hl7/lab', { type: 'ORU^R01^ORU_R01', family: 'BROWN' }),
    await send('/hl7/lab', { type: 'ORU^R01^ORU_R01', family: 'GREEN' }),
    await send('/hl7/lab', { type: 'SIU^S12^SIU_S12', family: 'WHITE' }),
    await send('/hl7/pharmacy', { type: 'ADT^A04^ADT_A01', family: 'BLACK' }),
  ].map((a) => a.code);
  assert.equal(codes, ['AA', 'AA', 'AA', 'AA', 'AA', 'AR', 'AA']);
  await settled;
});

test.after(async () => {
  await m?.stop();
  await api?.close();
});

test('rollups: messages per sender, type and ACK code, runs by status, last message time', async () => {
  const now = Date.now();
  const s = await m.module.rollups.senderSummaries(now - 3_600_000, now + 60_000);
  const by = (sender: string, type: string) => s.find((x) => x.sender === sender && x.messageType === type);
  assert.is(by('lab', 'ADT^A01')?.count, 3);
  assert.equal(by('lab', 'ADT^A01')?.ackCodes, { AA: 3 });
  assert.is(by('lab', 'ORU^R01')?.count, 2);
  assert.equal(by('lab', 'SIU^S12')?.ackCodes, { AR: 1 });
  assert.is(by('pharmacy', 'ADT^A04')?.count, 1);
  assert.ok(by('lab', 'ADT^A01')!.p95! > 0);
  const runs = (await m.module.rollups.runTotals(now - 3_600_000, now + 60_000));
  assert.equal(runs, [{ workflow: 'admit', status: 'dead', count: 1 }, { workflow: 'admit', status: 'done', count: 2 }]);
  const last = (await m.module.rollups.lastMessages());
  assert.ok(Math.abs(last.get('lab')! - now) < 60_000);
  // Long ranges read the hourly rollups: the same counts.
  const week = (await m.module.rollups.senderSummaries(now - 7 * 86_400_000, now + 60_000));
  assert.is(week.find((x) => x.sender === 'lab' && x.messageType === 'ADT^A01')?.count, 3);
  assert.is((await m.module.rollups.series(now - 7 * 86_400_000, now + 60_000, 60)).reduce((a, p) => a + p.count, 0), 7);
  // The series sums to what was sent.
  const total = (await m.module.rollups.series(now - 3_600_000, now + 60_000)).reduce((a, p) => a + p.count, 0);
  assert.is(total, 7);
});

test('metrics: the Prometheus text format at /metrics, counts equal to the traffic', async () => {
  const url = m.module.metricsUrl!;
  const r = await httpGet(`${url}/metrics`);
  assert.is(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  const s = parseExposition(r.text);
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ADT^A01', ack_code: 'AA' }), 3);
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ORU^R01', ack_code: 'AA' }), 2);
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'SIU^S12', ack_code: 'AR' }), 1);
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'pharmacy', message_type: 'ADT^A04', ack_code: 'AA' }), 1);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_count', { sender: 'lab' }), 6);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_bucket', { sender: 'lab', le: '+Inf' }), 6);
  assert.is(sample(s, 'hdc_workflow_runs_total', { workflow: 'admit', status: 'done' }), 2);
  assert.is(sample(s, 'hdc_workflow_runs_total', { workflow: 'admit', status: 'dead' }), 1);
  assert.is(sample(s, 'hdc_dead_letters_total', { workflow: 'admit' }), 1);
  assert.is(sample(s, 'hdc_dead_letters', { workflow: 'admit' }), 1);
  assert.ok(sample(s, 'hdc_process_cpu_seconds_total') !== undefined);
  // Each run's request to the partner API, by API and status, and the steps' durations.
  assert.is(sample(s, 'hdc_outbound_requests_total', { api: 'partner', status_code: '200' }), 3);
  assert.is(sample(s, 'hdc_outbound_request_duration_seconds_count', { api: 'partner' }), 3);
  assert.is(sample(s, 'hdc_workflow_step_duration_seconds_count', { workflow: 'admit', kind: 'rest', status: 'done' }), 3);
  // Names follow the conventions: hdc_ prefix, _total counters, base units.
  for (const line of r.text.split('\n').filter((l) => l.startsWith('# TYPE'))) {
    const [, , name, type] = line.split(' ');
    assert.match(name!, /^hdc_[a-z0-9_]+$/);
    if (type === 'counter') assert.match(name!, /_total$/);
  }
  // No control IDs or content in the exposition.
  for (const id of controlIds) assert.not.ok(r.text.includes(id), id);
  for (const family of ['SMITH', 'REJECT', 'WHITE', '12345']) assert.not.ok(r.text.includes(family), family);
});

test('metrics: journal commits (latency and batch size) match the journal\'s own counts', async () => {
  await m.rt.journal.drain();
  const { batches, entries } = m.rt.journal.stats;
  assert.ok(entries >= 6, `the accepted messages were journaled (${entries})`);
  const s = parseExposition((await httpGet(`${m.module.metricsUrl!}/metrics`)).text);
  assert.is(sample(s, 'hdc_journal_commit_batch_size_count'), batches);
  assert.is(sample(s, 'hdc_journal_commit_batch_size_sum'), entries);
  assert.is(sample(s, 'hdc_journal_commit_batch_size_bucket', { le: '+Inf' }), batches);
  assert.is(sample(s, 'hdc_journal_commit_duration_seconds_count'), batches);
  assert.ok(sample(s, 'hdc_journal_commit_duration_seconds_sum')! > 0);
  // A plan without launches has no SMART series.
  assert.is(sample(s, 'hdc_smart_launches_total', { launch: 'any', outcome: 'completed' }), undefined);
});

test('without tracing, requests to APIs carry no traceparent', () => {
  assert.ok(api.traceparents.length >= 3);
  assert.equal(api.traceparents.filter((h) => h !== undefined), []);
});

test('metrics: only /metrics is served', async () => {
  const url = m.module.metricsUrl!;
  assert.is((await httpGet(`${url}/`)).status, 404);
  assert.is((await httpGet(`${url}/metrics/../admin`)).status, 404);
});

test('message types from partners are bounded in labels', async () => {
  const { boundedMessageType } = await import('../../../modules/monitoring/metrics.ts');
  assert.is(boundedMessageType('ADT^A01'), 'ADT^A01');
  assert.is(boundedMessageType('ADT'), 'ADT');
  assert.is(boundedMessageType('<script>^X'), 'other');
  assert.is(boundedMessageType('ADT^A01^EXTRA'), 'other');
});

test('retention: rollups older than the retention are purged, recent ones stay', async () => {
  const now = Date.now();
  const old = now - 40 * 86_400_000;
  m.module.rollups.countMessage('lab', 'ADT^A01', 'AA', old, 12);
  m.module.rollups.countRun('admit', 'done', old);
  await m.module.rollups.flush();
  assert.is((await m.module.rollups.senderSummaries(old - 60_000, old + 60_000))[0]?.count, 1);
  const removed = await m.module.purge(now);
  assert.is(removed, 2);
  assert.is((await m.module.rollups.senderSummaries(old - 60_000, old + 60_000)).length, 0);
  assert.is((await m.module.rollups.senderSummaries(now - 3_600_000, now + 60_000)).reduce((a, x) => a + x.count, 0), 7);
});

test.run();
