// Trace and span ids known before their spans exist. Spans are built after the fact, from the
// journal and the run's step rows, but a step's outbound request must carry its `traceparent`
// while it is sent. So the ids are derived, not drawn: the trace id from the message, a step's span
// id from its run, attempt and path, each an HMAC under a key drawn when the process starts (ids
// reveal nothing about the message ids, and differ between processes and installations).
import { createHmac, randomBytes } from 'node:crypto';
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace';
import type { OutboundStep } from './seam.ts';

export class TraceIds {
  private readonly key = randomBytes(32);

  /** The trace of a message and everything its workflow runs did (32 hex digits). */
  traceId(messageId: number): string {
    return this.hex(`trace\u0000${messageId}`, 16);
  }

  /** The span of one step of one attempt of a run (16 hex digits). */
  stepSpanId(runId: number, attempt: number, stepPath: string): string {
    return this.hex(`step\u0000${runId}\u0000${attempt}\u0000${stepPath}`, 8);
  }

  /** The W3C trace context of a step's requests: the step's span is their parent, sampled. */
  traceparent(step: OutboundStep): string {
    return `00-${this.traceId(step.messageId)}-${this.stepSpanId(step.runId, step.attempt, step.stepPath)}-01`;
  }

  private hex(input: string, bytes: number): string {
    const id = createHmac('sha256', this.key).update(input).digest().subarray(0, bytes);
    // All zeros is the invalid id; one in 2^64 at worst, but it must never be sent.
    if (id.every((b) => b === 0)) id[bytes - 1] = 1;
    return id.toString('hex');
  }
}

/**
 * The OpenTelemetry SDK draws a span's ids inside `startSpan`; this generator hands out the ids
 * set for that one synchronous call (`startWith`), and random ones for every other span.
 */
export class PendingIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private traceId: string | undefined;
  private spanId: string | undefined;

  /** Runs `start` (a synchronous startSpan) with these ids pending; none stay pending afterwards. */
  startWith<T>(ids: { traceId?: string | undefined; spanId?: string | undefined }, start: () => T): T {
    this.traceId = ids.traceId;
    this.spanId = ids.spanId;
    try {
      return start();
    } finally {
      this.traceId = undefined;
      this.spanId = undefined;
    }
  }

  generateTraceId(): string {
    const id = this.traceId ?? this.random.generateTraceId();
    this.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.spanId ?? this.random.generateSpanId();
    this.spanId = undefined;
    return id;
  }
}
