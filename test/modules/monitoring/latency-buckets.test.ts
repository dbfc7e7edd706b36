// Percentiles from histogram buckets: the dashboard's p50/p95/p99 interpolate inside a bucket the
// way PromQL's histogram_quantile does, so both agree on the same counts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUCKET_COUNT, LATENCY_BOUNDS_MS, bucketIndex, quantile } from '../../../modules/monitoring/latency-buckets.ts';

const histogram = (samples: number[]) => {
  const b = new Array<number>(BUCKET_COUNT).fill(0);
  for (const s of samples) b[bucketIndex(s)]!++;
  return b;
};

test('bucket edges are inclusive upper bounds; beyond the last is the overflow bucket', () => {
  assert.is(bucketIndex(0), 0);
  assert.is(bucketIndex(5), 0);
  assert.is(bucketIndex(5.01), 1);
  assert.is(bucketIndex(10_000), LATENCY_BOUNDS_MS.length - 1);
  assert.is(bucketIndex(10_001), LATENCY_BOUNDS_MS.length);
});

test('quantiles interpolate inside the bucket', () => {
  assert.is(quantile(0.5, histogram([])), null);
  // 100 samples evenly in (10, 25]: the median is half-way through that bucket.
  const even = histogram(Array.from({ length: 100 }, (_, i) => 10.1 + (i * 14.9) / 100));
  assert.is(quantile(0.5, even), 17.5);
  // 90 fast, 10 slow: p50 among the fast, p95 and p99 in the slow bucket (250, 500].
  const mixed = histogram([...new Array(90).fill(3), ...new Array(10).fill(400)]);
  assert.ok(quantile(0.5, mixed)! <= 5);
  assert.is(quantile(0.95, mixed), 250 + 250 * 0.5);
  assert.is(quantile(0.99, mixed), 250 + 250 * 0.9);
  // Everything beyond the last bound answers with the last bound.
  assert.is(quantile(0.99, histogram([60_000])), 10_000);
});

test.run();
