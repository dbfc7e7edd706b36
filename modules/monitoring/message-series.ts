// The Prometheus series every answered message adds to (messages by sender, type and ACK code;
// ACK latency by sender), counted as plain numbers and handed to the registry when it is
// scraped. prom-client hashes and checks the labels on every increment and observation, even
// through a label-bound child: that was most of the module's work per message.
import { Counter, type Metric, type Registry } from 'prom-client';
import { BUCKET_COUNT, LATENCY_BOUNDS_MS, bucketIndex } from './latency-buckets.ts';

type MessageLabels = { sender: string; message_type: string; ack_code: string };

interface Latency {
  sender: string;
  /** Per bucket, not cumulative; the last one is above the last bound. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

interface Series {
  labels: MessageLabels;
  /** Counted since the last scrape. */
  pending: number;
  latency: Latency;
}

/** Raw (sender, type, ACK) keys remembered; beyond, a partner sending garbage types costs the label lookup each time. */
const MAX_RAW_KEYS = 10_000;

export class MessageSeries {
  /** By the message's own sender, type and ACK code. */
  private readonly byRaw = new Map<string, Series>();
  /** By the label values they map to. */
  private readonly byLabels = new Map<string, Series>();
  private readonly latencies = new Map<string, Latency>();

  /** `labels`: the label values of a message (bounded, no PHI). */
  constructor(registry: Registry, private readonly labels: (sender: string | null, type: string, ack: string) => MessageLabels) {
    const series = this.byLabels;
    new Counter({
      name: 'hdc_hl7_messages_total', help: 'HL7 v2 messages answered, by sender, message type (MSH-9.1^MSH-9.2) and ACK code (MSA-1).',
      labelNames: ['sender', 'message_type', 'ack_code'], registers: [registry],
      collect() {
        for (const s of series.values()) {
          if (!s.pending) continue;
          this.inc(s.labels, s.pending);
          s.pending = 0;
        }
      },
    });
    registry.registerMetric(this.latencyHistogram());
  }

  count(sender: string | null, type: string, ack: string, latencyMs: number): void {
    const raw = `${sender}\u0000${type}\u0000${ack}`;
    let s = this.byRaw.get(raw);
    if (!s) {
      s = this.seriesOf(this.labels(sender, type, ack));
      if (this.byRaw.size < MAX_RAW_KEYS) this.byRaw.set(raw, s);
    }
    s.pending++;
    const l = s.latency;
    l.buckets[bucketIndex(latencyMs)]!++;
    l.sumSeconds += latencyMs / 1000;
    l.count++;
  }

  private seriesOf(labels: MessageLabels): Series {
    const key = `${labels.sender}\u0000${labels.message_type}\u0000${labels.ack_code}`;
    let s = this.byLabels.get(key);
    if (!s) {
      let latency = this.latencies.get(labels.sender);
      if (!latency) this.latencies.set(labels.sender, (latency = { sender: labels.sender, buckets: new Array<number>(BUCKET_COUNT).fill(0), sumSeconds: 0, count: 0 }));
      this.byLabels.set(key, (s = { labels, pending: 0, latency }));
    }
    return s;
  }

  /**
   * hdc_hl7_ack_latency_seconds as a collector of its own: what prom-client's Histogram exposes
   * (cumulative `le` buckets, +Inf, _sum, _count), from the counts kept here.
   */
  private latencyHistogram(): Metric {
    const name = 'hdc_hl7_ack_latency_seconds';
    const help = 'Time from receiving an HL7 v2 message to answering it with its ACK.';
    const latencies = this.latencies;
    const collector = {
      name, help, type: 'histogram', aggregator: 'sum',
      get: async () => ({
        name, help, type: 'histogram', aggregator: 'sum',
        values: [...latencies.values()].flatMap((l) => {
          const sender = { sender: l.sender };
          let cumulative = 0;
          return [
            ...LATENCY_BOUNDS_MS.map((ms, i) => ({ labels: { le: ms / 1000 }, sharedLabels: sender, value: (cumulative += l.buckets[i]!), metricName: `${name}_bucket` })),
            { labels: { le: '+Inf' }, sharedLabels: sender, value: l.count, metricName: `${name}_bucket` },
            { labels: {}, sharedLabels: sender, value: l.sumSeconds, metricName: `${name}_sum` },
            { labels: {}, sharedLabels: sender, value: l.count, metricName: `${name}_count` },
          ];
        }),
      }),
      reset: () => {
        for (const l of latencies.values()) (l.buckets.fill(0), (l.sumSeconds = 0), (l.count = 0));
      },
    };
    // The registry asks a metric for its name and get() only (the Metric union lists prom-client's own classes).
    return collector as unknown as Metric;
  }
}
