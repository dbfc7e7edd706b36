// The Prometheus series every answered message adds to (messages by sender, type and ACK code;
// ACK latency by sender), counted as plain numbers and handed to the registry when it is
// scraped. prom-client hashes and checks the labels on every increment and observation, even
// through a label-bound child: that was most of the module's work per message.
import { Counter, type Registry } from 'prom-client';
import { LATENCY_BOUNDS_MS } from './latency-buckets.ts';
import { PlainHistogram, type HistogramCounts } from './plain-histogram.ts';

type MessageLabels = { sender: string; message_type: string; ack_code: string };

interface Series {
  labels: MessageLabels;
  /** Counted since the last scrape. */
  pending: number;
  /** The sender's ACK latency counts. */
  latency: HistogramCounts;
}

/** Raw (sender, type, ACK) keys remembered; beyond, a partner sending garbage types costs the label lookup each time. */
const MAX_RAW_KEYS = 10_000;

export class MessageSeries {
  /** By the message's own sender, type and ACK code. */
  private readonly byRaw = new Map<string, Series>();
  /** By the label values they map to. */
  private readonly byLabels = new Map<string, Series>();
  private readonly latency: PlainHistogram;

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
    this.latency = new PlainHistogram(registry, 'hdc_hl7_ack_latency_seconds', 'Time from receiving an HL7 v2 message to answering it with its ACK.',
      LATENCY_BOUNDS_MS.map((ms) => ms / 1000), 'sender');
  }

  count(sender: string | null, type: string, ack: string, latencyMs: number): void {
    const raw = `${sender}\u0000${type}\u0000${ack}`;
    let s = this.byRaw.get(raw);
    if (!s) {
      s = this.seriesOf(this.labels(sender, type, ack));
      if (this.byRaw.size < MAX_RAW_KEYS) this.byRaw.set(raw, s);
    }
    s.pending++;
    this.latency.observe(s.latency, latencyMs / 1000);
  }

  private seriesOf(labels: MessageLabels): Series {
    const key = `${labels.sender}\u0000${labels.message_type}\u0000${labels.ack_code}`;
    let s = this.byLabels.get(key);
    if (!s) this.byLabels.set(key, (s = { labels, pending: 0, latency: this.latency.counts(labels.sender) }));
    return s;
  }
}
