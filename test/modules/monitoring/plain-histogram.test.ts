// A histogram kept as plain numbers reads back as prom-client's own would: cumulative buckets,
// +Inf, sum and count, a series without label exposed from the start, one label when split.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Histogram, Registry } from 'prom-client';
import { PlainHistogram } from '../../../modules/monitoring/plain-histogram.ts';

const bounds = [0.001, 0.01, 0.1];

test('the same exposition as prom-client\'s Histogram for the same observations', async () => {
  const plain = new Registry();
  const theirs = new Registry();
  const p = new PlainHistogram(plain, 'x_seconds', 'X.', bounds);
  const only = p.counts();
  const h = new Histogram({ name: 'x_seconds', help: 'X.', buckets: bounds, registers: [theirs] });
  assert.is(await plain.metrics(), await theirs.metrics(), 'before any observation');
  for (const v of [0.0005, 0.001, 0.05, 0.5, 2]) (p.observe(only, v), h.observe(v));
  assert.is(await plain.metrics(), await theirs.metrics());
});

test('split by one label, each value its own series', async () => {
  const plain = new Registry();
  const theirs = new Registry();
  const p = new PlainHistogram(plain, 'y_seconds', 'Y.', bounds, 'sender');
  const h = new Histogram({ name: 'y_seconds', help: 'Y.', buckets: bounds, labelNames: ['sender'], registers: [theirs] });
  const lab = p.counts('lab');
  const ris = p.counts('radiology');
  for (const v of [0.002, 0.02]) (p.observe(lab, v), h.observe({ sender: 'lab' }, v));
  p.observe(ris, 0.2);
  h.observe({ sender: 'radiology' }, 0.2);
  assert.is(await plain.metrics(), await theirs.metrics());
  plain.resetMetrics();
  assert.match(await plain.metrics(), 'y_seconds_count{sender="lab"} 0');
});

test.run();
