// POST <sender path>: HL7 v2 over HTTP. Transport problems are answered with a non-2xx status and
// a text/plain body (401 credentials, 413 too large, 415 content type or charset, 400 not HL7);
// everything that is HL7 gets an ACK with HTTP 200, AE/AR/CE/CR included.
//
// Per body: the sender whose MSH predicates hold for the first MSH (read ASCII-compatibly) sets the
// body limit, charset and line endings (sender-for-body.ts) → decode → split.
// Per message: parse → never ACK an ACK → structure (breaks the sender does not accept, lines that
// are not segments, segments joined into MSH: AR) → pick the sender (identity, then MSH
// predicates) → required MSH fields → accepted type, processing ID, version → the sender's
// `require` list → map fields → journal (group
// commit, duplicates answered with the original ACK) → for `ack after_workflow`, wait for the
// workflow's outcome up to the sender's timeout, then answer with the commit-level ACK.
import type { Context } from 'koa';
import type { TLSSocket } from 'node:tls';
import type { FieldMapping, Sender, Workflow } from '../../plan/plan.types.ts';
import {
  ackCodeFor, buildAck, decodeBody, Hl7CharsetError, Hl7ParseError, isAck, parseMessage, splitBatch,
  type AckErrorLocation, type AckOutcome, type Hl7Header, type Hl7Message,
} from './hl7/index.ts';
import type { JournalStore } from '../store/journal-store.ts';
import type { JournalEntry, JournalResult } from '../journal/journal-writer.ts';
import type { RunEvents, FinishedEvent } from '../journal/run-events.ts';
import type { RunInput } from '../journal/journal-schema.ts';
import type { Logger } from '../platform/log/logger.ts';
import type { InboundEvents } from './inbound-events.ts';
import { peerCertificateProblem, verifiedPeerCertificate } from '../platform/tls/client-identity.ts';
import { parseBasicAuth } from './basic-auth.ts';
import { bufferEncodingFor, HL7_CONTENT_TYPES, parseContentType } from './content-type.ts';
import { readBody, BodyTooLargeError, ClientAbortError } from './read-body.ts';
import { logClientAbort, logRefusal, wasRefused, type RefusalReason } from './refusal.ts';
import { lingerBeforeClose } from './linger.ts';
import { LARGE_BODY_BYTES, recordInChunks, TimeSlice, yieldToEventLoop } from './fair-share.ts';
import { checkAcceptance, checkRequired, checkRequiredHeader, type Refusal } from './acceptance.ts';
import { checkStructure, undeclaredBreakRefusal } from './message-structure.ts';
import { senderForBody } from './sender-for-body.ts';
import { identityAllows, mshMatches, routedWorkflows, type SenderEntry, type RequestIdentity } from './sender-directory.ts';
import { wrapBatchResponse } from './batch-response.ts';
import { messageFingerprint, sendingSystemOf } from '../journal/message-fingerprint.ts';

export type FieldMapper = (msg: Hl7Message, fields: FieldMapping[], sender: { timezone?: string }) => Record<string, unknown>;
export type OrderKeyFor = (workflow: Workflow, fields: Record<string, unknown>, message: Record<string, unknown>) => string | null;

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

/** A transport-level answer: non-2xx, text/plain. */
function plain(ctx: Context, status: number, text: string): void {
  ctx.status = status;
  ctx.set('Content-Type', 'text/plain; charset=utf-8');
  ctx.body = text + '\n';
}

interface Pending {
  header: Hl7Header;
  entry: SenderEntry;
  journal: JournalEntry;
}

/** One message's answer, in body order. */
interface Slot {
  ack?: string;
  /** MSH-9.1^MSH-9.2 and the sender, for the log line. */
  type?: string;
  sender?: string;
  code?: string;
  pending?: Pending;
  result?: JournalResult;
  skippedAck?: boolean;
}

function isBlank(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

function msaCode(ack: string): string {
  const i = ack.indexOf('\rMSA');
  return i < 0 ? '' : ack.slice(i + 5, i + 7);
}

export function createHl7Endpoint(deps: Hl7EndpointDeps) {
  const { journal, events, log, logPhi } = deps;

  function answer(header: Hl7Header, outcome: AckOutcome): { ack: string; code: string } {
    return { ack: buildAck(header, outcome), code: outcome.code };
  }

  function refuse(header: Hl7Header, result: 'rejected' | 'error', error: AckOutcome['error'], text?: string) {
    return answer(header, { code: ackCodeFor(header, result), error, ...(text ? { text } : {}) });
  }

  /** Everything up to the journal for one parsed message; `broken` refuses it whatever it holds. */
  function decide(msg: Hl7Message, candidates: SenderEntry[], raw: Uint8Array, charset: string, receivedAt: number, broken: Refusal | null): Slot {
    const h = msg.header;
    if (isAck(h)) return { skippedAck: true };
    const unusable = broken ?? checkStructure(msg);
    // An MSH that swallowed other segments has no trustworthy MSH-15/16: answer in original mode.
    const header = unusable?.error.location?.segment === 'MSH' ? { ...h, acceptAckType: '', appAckType: '' } : h;
    const slot: Slot = unusable ? refuse(header, unusable.result, unusable.error) : decideFor(msg, candidates, raw, charset, receivedAt);
    slot.type = `${h.messageCode}^${h.triggerEvent}`;
    return slot;
  }

  function decideFor(msg: Hl7Message, candidates: SenderEntry[], raw: Uint8Array, charset: string, receivedAt: number): Slot {
    const h = msg.header;
    const entry = candidates.find((c) => mshMatches(c.sender, msg));
    if (!entry) {
      return refuse(h, 'rejected', { code: 207, text: 'sender not recognised: the MSH fields match no sender configured for this endpoint and identity' });
    }
    const sender = entry.sender;
    const named = (slot: Slot): Slot => ((slot.sender = sender.name), slot);
    const missing = checkRequiredHeader(h);
    if (missing) return named(refuse(h, missing.result, missing.error));
    const refused = checkAcceptance(sender, h);
    if (refused) return named(refuse(h, refused.result, refused.error));
    const lacking = checkRequired(sender, msg);
    if (lacking) return named(refuse(h, lacking.result, lacking.error));
    let fields: Record<string, unknown>;
    try {
      fields = deps.mapFields(msg, sender.fields, sender);
    } catch (err) {
      const e = err as Error & { code?: number; location?: AckErrorLocation };
      log.warn({ sender: sender.name, type: `${h.messageCode}^${h.triggerEvent}`, err: logPhi ? e.message : e.name }, 'field mapping failed');
      return named(refuse(h, 'error', { code: typeof e.code === 'number' ? e.code : 207, text: e.message, ...(e.location ? { location: e.location } : {}) }));
    }
    const message: RunInput['message'] & Record<string, unknown> = {
      type: h.messageCode, trigger: h.triggerEvent, controlId: h.controlId, version: h.version, receivedAt, sender: sender.name,
    };
    const input = JSON.stringify({ fields, message } satisfies RunInput);
    const runs = routedWorkflows(sender, h.messageCode, h.triggerEvent).map((workflow) => {
      const wf = deps.workflows.get(workflow);
      return { workflow, orderKey: wf?.orderBy && deps.orderKeyFor ? deps.orderKeyFor(wf, fields, message) : null, input };
    });
    const commit = answer(h, { code: ackCodeFor(h, 'accepted') });
    return {
      sender: sender.name,
      pending: {
        header: h,
        entry,
        journal: {
          sender: sender.name, controlId: h.controlId, messageType: h.messageCode, trigger: h.triggerEvent, receivedAt,
          raw, charset, status: 'accepted', ack: commit.ack, runs,
          // The resend rule: same sender, control ID and fingerprint (which covers MSH-3/MSH-4).
          sendingSystem: sendingSystemOf(h), contentHash: messageFingerprint(msg.raw), onReuse: sender.controlIdReuse ?? 'accept',
        },
      },
    };
  }

  /** The application-level answer once the workflow runs settled. */
  function afterWorkflow(header: Hl7Header, finished: FinishedEvent[]): { outcome: AckOutcome; status: string } {
    const rejected = finished.find((f) => f.status === 'rejected' && f.outcome?.code === 'AR');
    const failed = finished.find((f) => f.status !== 'done' && f !== rejected);
    const code = (r: 'accepted' | 'error' | 'rejected') => ackCodeFor(header, r, 'application');
    if (rejected) return { outcome: { code: code('rejected'), ...(rejected.outcome?.text ? { text: rejected.outcome.text } : {}) }, status: 'rejected' };
    if (failed) {
      const text = failed.outcome?.text;
      return {
        outcome: { code: code('error'), error: { code: 207, ...(text ? { text } : {}) }, ...(text ? { text } : {}) },
        status: failed.status === 'rejected' ? 'rejected' : 'failed',
      };
    }
    return { outcome: { code: code('accepted') }, status: 'processed' };
  }

  /** Sets the slot's ACK from its journal result; a promise only when `ack after_workflow` must wait. */
  function settle(slot: Slot): Promise<void> | undefined {
    const p = slot.pending!;
    const r = slot.result!;
    if (r.kind === 'duplicate') {
      slot.ack = r.ack;
      slot.code = msaCode(r.ack);
      return undefined;
    }
    if (r.kind === 'reuse-refused') {
      Object.assign(slot, refuse(p.header, 'rejected', {
        code: 205, location: { segment: 'MSH', sequence: 1, field: 10 },
        text: 'duplicate key identifier: this control ID was already used for a different message from the same sending system',
      }));
      return undefined;
    }
    slot.ack = p.journal.ack;
    slot.code = msaCode(p.journal.ack);
    if (p.entry.sender.ack.mode !== 'after_workflow' || r.runIds.length === 0) return undefined;
    return afterWorkflowAck(slot, p, r);
  }

  async function afterWorkflowAck(slot: Slot, p: Pending, r: Extract<JournalResult, { kind: 'stored' }>): Promise<void> {
    const sender: Sender = p.entry.sender;
    const timeout = sender.ack.timeoutMs ?? deps.defaultAckTimeoutMs ?? 10_000;
    // A wait ends early (null) when the run's next attempt is due after the timeout.
    const waits = r.runIds.map((id) => events.waitForFinished(id, timeout));
    // A run that settled before this wait began and no one claimed is a dead letter already; its
    // rejection is not this ACK's to carry.
    const finished = (await Promise.all(waits)).filter((f): f is FinishedEvent => f !== null && f.reason === undefined);
    const pending = r.runIds.length - finished.length;
    // A rejection that arrived is always reported: the engine counted on this ACK to carry it.
    if (pending > 0 && !finished.some((f) => f.status !== 'done')) {
      // The message is safely journaled, so the commit-level ACK is the honest answer; the
      // workflow's own outcome is recorded on its run (a later rejection becomes a dead letter).
      log.info({ sender: sender.name, messageId: r.messageId, pending }, 'after_workflow: outcome not known within the timeout; answered with the commit ACK');
      return;
    }
    const { outcome, status } = afterWorkflow(p.header, finished);
    const final = buildAck(p.header, outcome);
    try {
      await journal.updateAck(r.messageId, final, status);
      slot.ack = final;
      slot.code = outcome.code;
    } catch (err) {
      log.error({ messageId: r.messageId, err: (err as Error).message }, 'could not record the final ACK; answering with the commit ACK');
    }
  }

  return async function handle(ctx: Context, candidates: SenderEntry[]): Promise<void> {
    const started = performance.now();
    const socket = ctx.req.socket as TLSSocket;
    let senderName: string | undefined;
    /** A transport-level refusal: its log line (reason code, path, peer; no content) and the answer. */
    const refuseRequest = (status: number, reason: RefusalReason, text: string): void => {
      logRefusal(log, { status, reason, path: ctx.path, sender: senderName, socket });
      // Refused before "100 Continue": the client may or may not send the body now, so the
      // connection cannot be reused.
      if (ctx.req.headers.expect && !ctx.req.complete) ctx.set('Connection', 'close');
      plain(ctx, status, text);
    };
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      return refuseRequest(405, 'method-not-allowed', 'method not allowed: POST HL7 v2 messages here');
    }
    const who: RequestIdentity = {
      certificate: socket.encrypted ? verifiedPeerCertificate(socket) : null,
      basic: parseBasicAuth(ctx.get('authorization') || undefined),
    };
    const allowed = candidates.filter((c) => identityAllows(c, who));
    if (allowed.length === 0) {
      const wantsBasic = candidates.some((c) => c.sender.identity.kind === 'basic');
      if (wantsBasic) ctx.set('WWW-Authenticate', 'Basic realm="hdc", charset="UTF-8"');
      const wantsCert = candidates.some((c) => c.sender.identity.kind === 'client_cert');
      const problem = wantsCert && who.certificate === null ? peerCertificateProblem(socket) : null;
      if (problem && (who.basic === null || !wantsBasic)) return refuseRequest(401, problem.reason, problem.text);
      if (who.certificate === null && who.basic === null) {
        return refuseRequest(401, 'identity-missing',
          `authentication required${wantsCert ? ': a client certificate issued by the configured CA' : ''}${wantsBasic ? `${wantsCert ? ' or' : ':'} Basic credentials` : ''}`);
      }
      return refuseRequest(401, who.basic !== null && wantsBasic ? 'credentials-not-accepted' : 'certificate-not-accepted',
        'the credentials presented are not accepted for this endpoint');
    }
    if (allowed.length === 1) senderName = allowed[0]!.sender.name;
    const contentType = parseContentType(ctx.get('content-type') || undefined);
    if (!contentType || !HL7_CONTENT_TYPES.has(contentType.type)) {
      return refuseRequest(415, 'content-type', `unsupported content type "${ctx.get('content-type')}": use ${[...HL7_CONTENT_TYPES].join(', ')}`);
    }
    let limit = 0;
    for (const c of allowed) limit = Math.max(limit, c.sender.maxBodyBytes ?? deps.maxBodyBytes);
    let body: Buffer;
    try {
      body = await readBody(ctx.req, limit, ctx.res);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // The client may still be sending: the answer goes out first, then the connection closes
        // once the client stops (or after a short linger), so the 413 is read rather than reset.
        ctx.set('Connection', 'close');
        lingerBeforeClose(socket);
        return refuseRequest(413, 'body-too-large', err.message);
      }
      if (err instanceof ClientAbortError) {
        if (!wasRefused(socket)) logClientAbort(log, ctx.path, socket);
        ctx.respond = false;
        return;
      }
      throw err;
    }
    const receivedAt = Date.now();
    if (isBlank(body)) return refuseRequest(400, 'body-empty', 'empty body: expected an HL7 v2 message');

    // Each sender's own decoding: the sender is found from the MSH (read ASCII-compatibly), then
    // its body limit, charset and segment breaks apply.
    const policy = senderForBody(body, allowed).sender;
    const bodyLimit = policy.maxBodyBytes ?? deps.maxBodyBytes;
    if (body.length > bodyLimit) return refuseRequest(413, 'body-too-large', `request body exceeds the limit of ${bodyLimit} bytes for this sender`);
    // Decoding and splitting a large body are single steps: other requests get a turn around them.
    const large = body.length > LARGE_BODY_BYTES;
    let decoded: { text: string; charset: string };
    try {
      decoded = decodeBody(body, { contentTypeCharset: contentType.charset, senderCharset: policy.charset });
    } catch (err) {
      if (err instanceof Hl7CharsetError) {
        return err.source === 'content-type' ? refuseRequest(415, 'charset', err.message) : refuseRequest(400, 'charset-undecodable', err.message);
      }
      throw err;
    }
    if (large) await yieldToEventLoop();
    let split = splitBatch(decoded.text, policy.segmentBreaks);
    // Breaks the sender does not accept: every message is refused, each answered with its own
    // header, read with any breaks so the ACK does not echo a header that swallowed the message.
    const undeclared = split.undeclared ? undeclaredBreakRefusal(split.undeclared, policy.segmentBreaks) : null;
    if (undeclared) split = splitBatch(decoded.text, 'any');
    if (large) await yieldToEventLoop();
    if (split.messages.length === 0) return refuseRequest(400, 'not-hl7', 'not an HL7 v2 message: no MSH segment');
    if (split.batch?.countMismatches) log.warn({ path: ctx.path, sender: policy.name, counts: split.batch.countMismatches }, 'batch trailer counts do not match the messages received');

    const single = split.messages.length === 1;
    const rawEncoding = bufferEncodingFor(decoded.charset);
    const slots: Slot[] = [];
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
          return refuseRequest(400, 'not-hl7', `not an HL7 v2 message: line ${line}, column ${err.column}: ${err.message}`);
        }
        throw err;
      }
      // A single message is journaled with the body's exact bytes; a message from a batch with its
      // own text, re-encoded in the body's charset (segments end with CR).
      const raw = single ? body : Buffer.from(text, rawEncoding);
      try {
        slots.push(decide(msg, allowed, raw, decoded.charset, receivedAt, undeclared));
      } catch (err) {
        log.error({ err: (err as Error).message }, 'unexpected error while handling a message');
        slots.push(refuse(msg.header, 'error', { code: 207, text: 'application internal error' }));
      }
    }
    if (slots.every((s) => s.skippedAck)) {
      return refuseRequest(400, 'ack-posted', 'an acknowledgment (MSH-9 ACK) was posted: acknowledgments are never acknowledged and not accepted here');
    }

    const pending = slots.filter((s) => s.pending);
    if (pending.length) {
      // A large batch is journaled in chunks (other requests' entries interleave); a chunk that
      // fails is answered AR, the chunks already committed keep their ACKs.
      const results = await recordInChunks(journal, pending.map((s) => s.pending!.journal),
        (err) => log.error({ err: err.message }, 'journal write failed; answering AR (system unavailable)'));
      const stored: Slot[] = [];
      for (let i = 0; i < pending.length; i++) {
        const slot = pending[i]!;
        const result = results[i];
        if (!result) {
          Object.assign(slot, refuse(slot.pending!.header, 'rejected', { code: 207, text: 'system unavailable: the message could not be stored; resend it later' }));
          continue;
        }
        slot.result = result;
        stored.push(slot);
      }
      if (stored.length) {
        const settling: Promise<void>[] = [];
        for (const s of stored) {
          const wait = settle(s);
          if (wait) settling.push(wait);
        }
        slice.restart();
        let k = 0;
        for (const s of stored) {
          if (slice.due(k++)) await yieldToEventLoop();
          const r = s.result;
          if (r?.kind === 'stored' && r.reuseOf !== null) {
            log.warn({ sender: s.sender, type: s.type, messageId: r.messageId, reuseOf: r.reuseOf }, 'control ID reused by a different message; journaled as a new message');
          }
          if (r?.kind === 'stored' && r.runIds.length > 0) events.emit('enqueued', { runIds: r.runIds, messageId: r.messageId, sender: s.pending!.journal.sender });
        }
        if (settling.length) await Promise.all(settling);
      }
    }

    const acks = slots.filter((s) => s.ack !== undefined).map((s) => s.ack!);
    const responseText = single ? acks[0]! : wrapBatchResponse(split.batch, acks);
    const charset = contentType.charset ?? decoded.charset;
    const encoding = bufferEncodingFor(charset);
    const label = encoding === 'latin1' || /^utf-?8$/i.test(charset) ? charset : 'utf-8';
    ctx.status = 200;
    ctx.set('Content-Type', `${contentType.type}; charset=${label}`);
    ctx.body = Buffer.from(responseText, encoding);

    // Accepted messages are counted for the periodic traffic line (and logged one by one at debug);
    // every refusal (AE/AR/CE/CR) still gets its own line at info.
    const ms = Math.round((performance.now() - started) * 100) / 100;
    const debug = log.isLevelEnabled('debug');
    for (const s of slots) {
      if (s.skippedAck) continue;
      const r = s.result;
      const duplicate = r?.kind === 'duplicate';
      const reuseOf = r?.kind === 'reuse-refused' || r?.kind === 'stored' ? r.reuseOf : null;
      const accepted = s.code === 'AA' || s.code === 'CA';
      deps.inbound?.emit('message', {
        sender: s.sender ?? null, messageType: s.type ?? '', ackCode: s.code ?? '', receivedAt, latencyMs: ms, duplicate,
        reusedControlId: reuseOf !== null, ...(r && r.kind !== 'reuse-refused' ? { messageId: r.messageId } : {}),
      });
      if (accepted && !debug) continue;
      const j = s.pending?.journal;
      log[accepted ? 'debug' : 'info']({
        sender: s.sender ?? null,
        type: s.type,
        ack: s.code,
        ...(r && r.kind !== 'reuse-refused' ? { messageId: r.messageId, duplicate } : {}),
        ...(reuseOf !== null ? { reuseOf } : {}),
        ...(logPhi && j ? { controlId: j.controlId } : {}),
        ms,
      }, 'hl7 message');
    }
  };
}
