// `tracing { otlp … }`: OpenTelemetry spans exported over OTLP/HTTP, built from the runtime's
// events after the fact (the spans carry the recorded start and end times): one span per answered
// HL7 message, a child span per workflow run of that message, and under it a span per step
// (outbound requests carry their HTTP status). Names, codes and durations only: no control ID,
// no content. A run that settles before its message is answered (`ack after_workflow`) waits for
// the message's span; one whose message span never comes (a restart) becomes its own root. Runs
// and steps are read from the shared database (with a PostgreSQL store, where the engine wrote them).
import { context, trace, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
import type { EnqueuedEvent, FinishedEvent, RunEvents } from '../../runtime/journal/run-events.ts';
import type { InboundEvents, AnsweredMessage } from '../../runtime/inbound/inbound-events.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import type { OutboundStep } from './seam.ts';
import { PendingIds, TraceIds } from './trace-ids.ts';

export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (spans go to /v1/traces). */
  endpoint: string;
  service: string;
  /** How long a settled run waits for its message's span (default 30 s). */
  waitForMessageMs?: number;
  /** Batch export delay (default 1 s). */
  exportDelayMs?: number;
}

interface StepRow { path: string; step_id: string; kind: string; status: string; attempt: number; started_at: number; finished_at: number; error: string | null; result: string | null }
interface RunRow { id: number; message_id: number; workflow: string; created_at: number; updated_at: number; attempts: number }

const HTTP_KINDS = new Set(['fhir', 'rest', 'send']);
const LIMIT = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > LIMIT) map.delete(map.keys().next().value!);
}

export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  /** messageId → its span (ended), for runs to hang under. */
  private readonly messageSpans = new Map<number, Span>();
  /** runId → messageId, from 'enqueued'. */
  private readonly runMessage = new Map<number, number>();
  /** Runs settled before their message's span existed. */
  private readonly waiting = new Map<number, Array<{ e: FinishedEvent; timer: NodeJS.Timeout }>>();
  readonly ids = new TraceIds();
  private readonly pending = new PendingIds();
  /** Step spans exported already: a replayed run settles again with its earlier steps. */
  private readonly exported = new Map<string, true>();

  private readonly onMessage = (m: AnsweredMessage) => this.message(m);
  private readonly onEnqueued = (e: EnqueuedEvent) => {
    for (const id of e.runIds) remember(this.runMessage, id, e.messageId);
  };
  private readonly onFinished = (e: FinishedEvent) => void this.finished(e).catch((err) => this.log.warn({ err: (err as Error).message, runId: e.runId }, 'tracing: could not record a run'));

  constructor(private readonly opts: TracingOptions, private readonly sql: SharedSql, private readonly inbound: InboundEvents, private readonly events: RunEvents, private readonly log: Logger) {
    const exporter = new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, '')}/v1/traces` });
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.service }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: opts.exportDelayMs ?? 1000 })],
      idGenerator: this.pending,
    });
    this.tracer = this.provider.getTracer('hdc');
    inbound.on('message', this.onMessage);
    events.on('enqueued', this.onEnqueued);
    events.on('finished', this.onFinished);
  }

  /** The trace context a step's requests carry (the runtime asks as each HTTP step starts). */
  headers(step: OutboundStep): Record<string, string> {
    return { traceparent: this.ids.traceparent(step) };
  }

  private message(m: AnsweredMessage): void {
    const traceId = m.messageId !== undefined ? this.ids.traceId(m.messageId) : undefined;
    const span = this.pending.startWith({ traceId }, () => this.tracer.startSpan('hl7 message', {
      kind: SpanKind.SERVER, startTime: m.receivedAt,
      attributes: { 'hdc.sender': m.sender ?? '(unmatched)', 'hl7.message_type': m.messageType, 'hl7.ack_code': m.ackCode, 'hdc.duplicate': m.duplicate },
    }, context.active()));
    if (!/^(AA|CA)$/.test(m.ackCode)) span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${m.ackCode}` });
    span.end(m.receivedAt + m.latencyMs);
    if (m.messageId === undefined) return;
    remember(this.messageSpans, m.messageId, span);
    const pending = this.waiting.get(m.messageId);
    if (!pending) return;
    this.waiting.delete(m.messageId);
    for (const p of pending) {
      clearTimeout(p.timer);
      void this.run(p.e, span);
    }
  }

  private runRow(id: number): Promise<RunRow | undefined> {
    return this.sql.get<RunRow>('SELECT id, message_id, workflow, created_at, updated_at, attempts FROM workflow_runs WHERE id = $1', [id]);
  }

  private async finished(e: FinishedEvent): Promise<void> {
    const messageId = this.runMessage.get(e.runId) ?? (await this.runRow(e.runId))?.message_id;
    const parent = messageId !== undefined ? this.messageSpans.get(messageId) : undefined;
    if (parent || messageId === undefined) return this.run(e, parent);
    const list = this.waiting.get(messageId) ?? [];
    const timer = setTimeout(() => {
      const left = this.waiting.get(messageId)?.filter((p) => p.e !== e) ?? [];
      if (left.length) this.waiting.set(messageId, left);
      else this.waiting.delete(messageId);
      void this.run(e, undefined);
    }, this.opts.waitForMessageMs ?? 30_000);
    timer.unref();
    list.push({ e, timer });
    this.waiting.set(messageId, list);
  }

  private async run(e: FinishedEvent, parent: Span | undefined): Promise<void> {
    try {
      const row = await this.runRow(e.runId);
      if (!row) return;
      const steps = await this.sql.all<StepRow>('SELECT path, step_id, kind, status, attempt, started_at, finished_at, error, result FROM run_steps WHERE run_id = $1 ORDER BY started_at, path', [e.runId]);
      const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
      // Without its message's span the run is a root, still in its message's trace.
      const span = this.pending.startWith({ traceId: this.ids.traceId(row.message_id) }, () => this.tracer.startSpan(`workflow ${row.workflow}`, {
        kind: SpanKind.INTERNAL, startTime: row.created_at,
        attributes: { 'hdc.workflow': row.workflow, 'hdc.run.status': e.status, 'hdc.run.attempts': row.attempts },
      }, ctx));
      if (e.status !== 'done') span.setStatus({ code: SpanStatusCode.ERROR, message: e.status });
      const inRun = trace.setSpan(context.active(), span);
      for (const s of steps) {
        const http = HTTP_KINDS.has(s.kind);
        let status: number | undefined;
        try {
          const r = s.result ? (JSON.parse(s.result) as { status?: unknown }) : undefined;
          if (typeof r?.status === 'number') status = r.status;
        } catch {
          // a result that is not JSON has no status to report
        }
        const spanId = this.ids.stepSpanId(e.runId, s.attempt, s.path);
        if (this.exported.has(spanId)) continue;
        remember(this.exported, spanId, true);
        const child = this.pending.startWith({ spanId }, () => this.tracer.startSpan(`step ${s.step_id}`, {
          kind: http ? SpanKind.CLIENT : SpanKind.INTERNAL, startTime: s.started_at,
          attributes: { 'hdc.step': s.step_id, 'hdc.step.kind': s.kind, 'hdc.step.path': s.path, ...(status !== undefined ? { 'http.response.status_code': status } : {}) },
        }, inRun));
        if (s.status !== 'done') child.setStatus({ code: SpanStatusCode.ERROR, message: 'step failed' });
        child.end(s.finished_at);
      }
      span.end(Math.max(row.updated_at, row.created_at));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, runId: e.runId }, 'tracing: could not record a run');
    }
  }

  async stop(): Promise<void> {
    this.inbound.off('message', this.onMessage);
    this.events.off('enqueued', this.onEnqueued);
    this.events.off('finished', this.onFinished);
    for (const list of this.waiting.values()) for (const p of list) clearTimeout(p.timer);
    await this.provider.forceFlush().catch(() => undefined);
    await this.provider.shutdown().catch(() => undefined);
  }
}
