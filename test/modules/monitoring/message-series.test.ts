// The per-message series kept as plain numbers and handed to prom-client at scrape time: each
// message counted once however many scrapes come, the latency histogram in prom-client's shape
// (cumulative buckets, +Inf, sum, count), and partner input bounded to known label values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { MessageSeries } from '../../../modules/monitoring/message-series.ts';
import { parseExposition, sample } from './scrape.ts';

function series() {
  const registry = new Registry();
  const m = new MessageSeries(registry, (sender, type, ack) => ({ sender: sender ?? '(unmatched)', message_type: /^[A-Z]{3}\^[A-Z0-9]{3}$/.test(type) ? type : 'other', ack_code: ack }));
  return { m, scrape: async () => parseExposition(await registry.metrics()) };
}

test('messages are counted once across scrapes; the latency histogram has prom-client\'s shape', async () => {
  const { m, scrape } = series();
  m.count('lab', 'ADT^A01', 'AA', 3);
  m.count('lab', 'ADT^A01', 'AA', 30);
  m.count('lab', 'ORU^R01', 'AE', 20_000);
  let s = await scrape();
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ADT^A01', ack_code: 'AA' }), 2);
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ORU^R01', ack_code: 'AE' }), 1);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_bucket', { sender: 'lab', le: '0.005' }), 1);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_bucket', { sender: 'lab', le: '0.05' }), 2);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_bucket', { sender: 'lab', le: '10' }), 2);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_bucket', { sender: 'lab', le: '+Inf' }), 3);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_count', { sender: 'lab' }), 3);
  assert.ok(Math.abs(sample(s, 'hdc_hl7_ack_latency_seconds_sum', { sender: 'lab' })! - 20.033) < 1e-9);
  s = await scrape();
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ADT^A01', ack_code: 'AA' }), 2, 'a second scrape adds nothing');
  m.count('lab', 'ADT^A01', 'AA', 3);
  s = await scrape();
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: 'lab', message_type: 'ADT^A01', ack_code: 'AA' }), 3);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_count', { sender: 'lab' }), 4);
});

test('garbage message types share one series, also beyond the remembered keys', async () => {
  const { m, scrape } = series();
  for (let i = 0; i < 10_500; i++) m.count(null, `X${i}`, 'AR', 1);
  const s = await scrape();
  assert.is(sample(s, 'hdc_hl7_messages_total', { sender: '(unmatched)', message_type: 'other', ack_code: 'AR' }), 10_500);
  assert.is(sample(s, 'hdc_hl7_ack_latency_seconds_count', { sender: '(unmatched)' }), 10_500);
  assert.is([...s.keys()].filter((k) => k.startsWith('hdc_hl7_messages_total')).length, 1);
});

test.run();
