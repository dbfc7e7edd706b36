// POST <sender path>: HL7 v2 over HTTP. Transport problems are answered with a non-2xx status and
// a text/plain body (hl7-transport.ts); everything that is HL7 gets an ACK with HTTP 200,
// AE/AR/CE/CR included.
//
// Per request: transport (identity, content type, body, decoding, split) → per message: parse →
// checks (message-checks.ts: refused, or pending with its journal entry) → the journal (group
// commit; a resend is answered with its stored ACK) → the answer (ack-settlement.ts; for
// `ack after_workflow`, the workflow's outcome within the sender's timeout) → one response, a
// batch wrapped as it came, and one `message` event per answered message.
import type { Context } from 'koa';
import type { Workflow } from '../../plan/plan.types.ts';
import { Hl7ParseError, parseMessage, type Hl7Message } from './hl7/index.ts';
import type { JournalStore } from '../store/journal-store.ts';
import type { RunEvents } from '../journal/run-events.ts';
import type { Logger } from '../platform/log/logger.ts';
import type { InboundEvents } from './inbound-events.ts';
import { bufferEncodingFor } from './content-type.ts';
import { recordInChunks, TimeSlice, yieldToEventLoop } from './fair-share.ts';
import type { SenderEntry } from './sender-directory.ts';
import { wrapBatchResponse } from './batch-response.ts';
import { receiveHl7Request } from './hl7-transport.ts';
import { createMessageChecks, refusal, type FieldMapper, type OrderKeyFor } from './message-checks.ts';
import { createAckSettlement } from './ack-settlement.ts';
import type { AnsweredState, MessageState, Pending } from './message-state.ts';

export type { FieldMapper, OrderKeyFor } from './message-checks.ts';

export interface Hl7EndpointDeps {
  journal: JournalStore;
  events: RunEvents;
  log: Logger;
  logPhi: boolean;
  /** Body limit when the sender sets none. */
  maxBodyBytes: number;
  mapFields: FieldMapper;
  workflows: Map<string, Workflow>;
  orderKeyFor?: OrderKeyFor;
  /** Wait for after_workflow when the sender names no timeout. */
  defaultAckTimeoutMs?: number;
  /** Told of every answered message (the traffic line, add-ons that watch traffic). */
  inbound?: InboundEvents;
}

export function createHl7Endpoint(deps: Hl7EndpointDeps) {
  const { journal, events, log, logPhi } = deps;
  const check = createMessageChecks(deps);
  const acks = createAckSettlement(deps);

  /** Journals the pending messages and answers each; a chunk that could not be written is answered AR. */
  async function journalAndAnswer(states: MessageState[]): Promise<void> {
    const pendingAt = states.flatMap((s, i) => (s.kind === 'pending' ? [i] : []));
    if (!pendingAt.length) return;
    const pending = pendingAt.map((i) => states[i] as Pending);
    // A large batch is journaled in chunks (other requests' entries interleave); a chunk that
    // fails is answered AR, the chunks already committed keep their ACKs.
    const results = await recordInChunks(journal, pending.map((p) => p.journal),
      (err) => log.error({ err: err.message }, 'journal write failed; answering AR (system unavailable)'));
    const waits: Promise<void>[] = [];
    const slice = new TimeSlice();
    for (let k = 0; k < pendingAt.length; k++) {
      if (slice.due(k)) await yieldToEventLoop();
      const p = pending[k]!;
      const result = results[k];
      const answered = result
        ? acks.settle(p, result)
        : refusal(p.header, 'rejected', { code: 207, text: 'system unavailable: the message could not be stored; resend it later' }, p.sender);
      states[pendingAt[k]!] = answered;
      if (answered.kind !== 'stored') continue;
      if (answered.reuseOf !== null) {
        log.warn({ sender: answered.sender, type: answered.type, messageId: answered.messageId, reuseOf: answered.reuseOf }, 'control ID reused by a different message; journaled as a new message');
      }
      if (acks.waitsForWorkflow(answered)) waits.push(acks.awaitWorkflow(answered));
      if (answered.runIds.length > 0) events.emit('enqueued', { runIds: answered.runIds, messageId: answered.messageId, sender: p.sender });
    }
    if (waits.length) await Promise.all(waits);
  }

  /** One `message` event per answered message; refusals (AE/AR/CE/CR) also get a log line at info. */
  function report(answered: AnsweredState[], receivedAt: number, latencyMs: number): void {
    const debug = log.isLevelEnabled('debug');
    for (const s of answered) {
      const duplicate = s.kind === 'duplicate';
      const reuseOf = s.kind === 'refused' ? s.reuseOf ?? null : s.kind === 'stored' ? s.reuseOf : null;
      const messageId = s.kind === 'refused' ? undefined : s.messageId;
      deps.inbound?.emit('message', {
        sender: s.sender, messageType: s.type, ackCode: s.code, receivedAt, latencyMs, duplicate,
        reusedControlId: reuseOf !== null, ...(messageId !== undefined ? { messageId } : {}),
      });
      const accepted = s.code === 'AA' || s.code === 'CA';
      if (accepted && !debug) continue;
      log[accepted ? 'debug' : 'info']({
        sender: s.sender,
        type: s.type,
        ack: s.code,
        ...(messageId !== undefined ? { messageId, duplicate } : {}),
        ...(reuseOf !== null ? { reuseOf } : {}),
        ...(logPhi && s.kind === 'stored' ? { controlId: s.pending.journal.controlId } : {}),
        ms: latencyMs,
      }, 'hl7 message');
    }
  }

  return async function handle(ctx: Context, candidates: SenderEntry[]): Promise<void> {
    const started = performance.now();
    const request = await receiveHl7Request(ctx, candidates, deps);
    if (!request) return;
    const { body, decoded, split, allowed, undeclared, receivedAt } = request;

    const single = split.messages.length === 1;
    const rawEncoding = bufferEncodingFor(decoded.charset);
    const states: MessageState[] = [];
    const slice = new TimeSlice();
    for (let i = 0; i < split.messages.length; i++) {
      if (slice.due(i)) await yieldToEventLoop(); // a large batch shares the event loop
      const text = split.messages[i]!;
      let msg: Hl7Message;
      try {
        msg = parseMessage(text);
      } catch (err) {
        if (err instanceof Hl7ParseError) {
          const line = (split.lines[i] ?? 1) + err.line - 1;
          return request.refuse(400, 'not-hl7', `not an HL7 v2 message: line ${line}, column ${err.column}: ${err.message}`);
        }
        throw err;
      }
      // A single message is journaled with the body's exact bytes; a message from a batch with its
      // own text, re-encoded in the body's charset (segments end with CR).
      const raw = single ? body : Buffer.from(text, rawEncoding);
      try {
        states.push(check({ msg, candidates: allowed, raw, charset: decoded.charset, receivedAt, broken: undeclared }));
      } catch (err) {
        log.error({ err: (err as Error).message }, 'unexpected error while handling a message');
        states.push(refusal(msg.header, 'error', { code: 207, text: 'application internal error' }, null));
      }
    }
    if (states.every((s) => s.kind === 'skipped')) {
      return request.refuse(400, 'ack-posted', 'an acknowledgment (MSH-9 ACK) was posted: acknowledgments are never acknowledged and not accepted here');
    }
    await journalAndAnswer(states);

    const answered = states.filter((s): s is AnsweredState => s.kind === 'refused' || s.kind === 'stored' || s.kind === 'duplicate');
    const responseText = single ? answered[0]!.ack : wrapBatchResponse(split.batch, answered.map((s) => s.ack));
    const charset = request.contentTypeCharset ?? decoded.charset;
    const encoding = bufferEncodingFor(charset);
    const label = encoding === 'latin1' || /^utf-?8$/i.test(charset) ? charset : 'utf-8';
    ctx.status = 200;
    ctx.set('Content-Type', `${request.contentType}; charset=${label}`);
    ctx.body = Buffer.from(responseText, encoding);
    report(answered, receivedAt, Math.round((performance.now() - started) * 100) / 100);
  };
}
