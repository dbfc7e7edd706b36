// A Prometheus histogram kept as plain numbers, for the observations made on the message path
// (ACK latency per message, journal commits per batch): prom-client's Histogram hashes and checks
// its labels on every observation, which costs more than the count itself. The registry reads it
// when scraped, in the shape prom-client's own histograms have (cumulative `le` buckets, +Inf,
// _sum, _count).
import type { Metric, Registry } from 'prom-client';

export interface HistogramCounts {
  /** Per bound, not cumulative; the last one counts what is above the last bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

export class PlainHistogram {
  private readonly series = new Map<string, HistogramCounts>();

  /** `label`: the one label's name, when the series are split by one (sender). */
  constructor(registry: Registry, private readonly name: string, private readonly help: string, private readonly bounds: readonly number[], private readonly label?: string) {
    // The registry asks a metric for its name, get() and reset() only (its Metric type lists prom-client's own classes).
    registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get: () => this.get(), reset: () => this.reset() } as unknown as Metric);
  }

  /** The counts of one label value (of the only series without a label): kept by the caller, observed with `observe`. */
  counts(labelValue = ''): HistogramCounts {
    let c = this.series.get(labelValue);
    if (!c) this.series.set(labelValue, (c = { buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    return c;
  }

  observe(c: HistogramCounts, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    c.buckets[i]!++;
    c.sum += value;
    c.count++;
  }

  private async get() {
    const bucket = `${this.name}_bucket`;
    const values = [...this.series].flatMap(([labelValue, c]) => {
      const shared = this.label ? { [this.label]: labelValue } : {};
      let cumulative = 0;
      return [
        ...this.bounds.map((le, i) => ({ labels: { le }, sharedLabels: shared, value: (cumulative += c.buckets[i]!), metricName: bucket })),
        { labels: { le: '+Inf' }, sharedLabels: shared, value: c.count, metricName: bucket },
        { labels: {}, sharedLabels: shared, value: c.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: c.count, metricName: `${this.name}_count` },
      ];
    });
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  private reset(): void {
    for (const c of this.series.values()) (c.buckets.fill(0), (c.sum = 0), (c.count = 0));
  }
}
