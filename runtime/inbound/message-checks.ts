// Everything the listener decides about one parsed message before the journal: never ACK an ACK →
// structure (breaks the sender does not accept, lines that are not segments, segments joined
// into MSH: AR) → the sender (identity already narrowed the candidates; now the MSH predicates) →
// required MSH fields → accepted type, processing ID, version → the sender's `require` list →
// mapped fields → the journal entry with its commit-level ACK and the runs it routes to.
import type { FieldMapping, Workflow } from '../../plan/plan.types.ts';
import { ackCodeFor, buildAck, isAck, type AckErrorLocation, type AckOutcome, type Hl7Header, type Hl7Message } from './hl7/index.ts';
import type { RunInput } from '../journal/journal-schema.ts';
import type { Logger } from '../platform/log/logger.ts';
import { checkAcceptance, checkRequired, checkRequiredHeader, type Refusal } from './acceptance.ts';
import { checkStructure } from './message-structure.ts';
import { mshMatches, routedWorkflows, type SenderEntry } from './sender-directory.ts';
import { messageFingerprint, sendingSystemOf } from '../journal/message-fingerprint.ts';
import type { MessageState, Refused } from './message-state.ts';

export type FieldMapper = (msg: Hl7Message, fields: FieldMapping[], sender: { timezone?: string }) => Record<string, unknown>;
export type OrderKeyFor = (workflow: Workflow, fields: Record<string, unknown>, message: Record<string, unknown>) => string | null;

export interface MessageCheckDeps {
  log: Logger;
  logPhi: boolean;
  mapFields: FieldMapper;
  workflows: Map<string, Workflow>;
  orderKeyFor?: OrderKeyFor;
}

/** One message as it arrived: its parse, the bytes to journal, and what the request already knows. */
export interface ArrivedMessage {
  msg: Hl7Message;
  /** The senders the request's identity allows. */
  candidates: SenderEntry[];
  raw: Uint8Array;
  charset: string;
  receivedAt: number;
  /** A refusal that applies whatever the message holds (breaks the sender does not accept). */
  broken: Refusal | null;
}

const typeOf = (h: Hl7Header) => `${h.messageCode}^${h.triggerEvent}`;

/** A refusal answered with the message's own header. */
export function refusal(header: Hl7Header, result: 'rejected' | 'error', error: AckOutcome['error'], sender: string | null, extra: Partial<Refused> = {}): Refused {
  const code = ackCodeFor(header, result);
  return { kind: 'refused', ack: buildAck(header, { code, error }), code, type: typeOf(header), sender, ...extra };
}

export function createMessageChecks(deps: MessageCheckDeps): (m: ArrivedMessage) => MessageState {
  const { log, logPhi } = deps;

  function check({ msg, candidates, raw, charset, receivedAt }: ArrivedMessage): MessageState {
    const h = msg.header;
    const entry = candidates.find((c) => mshMatches(c.sender, msg));
    if (!entry) {
      return refusal(h, 'rejected', { code: 207, text: 'sender not recognised: the MSH fields match no sender configured for this endpoint and identity' }, null);
    }
    const sender = entry.sender;
    const refused = checkRequiredHeader(h) ?? checkAcceptance(sender, h) ?? checkRequired(sender, msg);
    if (refused) return refusal(h, refused.result, refused.error, sender.name);
    let fields: Record<string, unknown>;
    try {
      fields = deps.mapFields(msg, sender.fields, sender);
    } catch (err) {
      const e = err as Error & { code?: number; location?: AckErrorLocation };
      log.warn({ sender: sender.name, type: typeOf(h), err: logPhi ? e.message : e.name }, 'field mapping failed');
      return refusal(h, 'error', { code: typeof e.code === 'number' ? e.code : 207, text: e.message, ...(e.location ? { location: e.location } : {}) }, sender.name);
    }
    const message: RunInput['message'] & Record<string, unknown> = {
      type: h.messageCode, trigger: h.triggerEvent, controlId: h.controlId, version: h.version, receivedAt, sender: sender.name,
    };
    const input = JSON.stringify({ fields, message } satisfies RunInput);
    const runs = routedWorkflows(sender, h.messageCode, h.triggerEvent).map((workflow) => {
      const wf = deps.workflows.get(workflow);
      return { workflow, orderKey: wf?.orderBy && deps.orderKeyFor ? deps.orderKeyFor(wf, fields, message) : null, input };
    });
    return {
      kind: 'pending',
      type: typeOf(h),
      sender: sender.name,
      header: h,
      entry,
      journal: {
        sender: sender.name, controlId: h.controlId, messageType: h.messageCode, trigger: h.triggerEvent, receivedAt,
        raw, charset, status: 'accepted', ack: buildAck(h, { code: ackCodeFor(h, 'accepted') }), runs,
        // The resend rule: same sender, control ID and fingerprint (which covers MSH-3/MSH-4).
        sendingSystem: sendingSystemOf(h), contentHash: messageFingerprint(msg.raw), onReuse: sender.controlIdReuse ?? 'accept',
        ...(sender.ack.mode === 'after_workflow' ? { awaitsOutcome: true } : {}),
      },
    };
  }

  return (m) => {
    const h = m.msg.header;
    if (isAck(h)) return { kind: 'skipped' };
    const unusable = m.broken ?? checkStructure(m.msg);
    if (!unusable) return check(m);
    // An MSH that swallowed other segments has no trustworthy MSH-15/16: answer in original mode.
    const header = unusable.error.location?.segment === 'MSH' ? { ...h, acceptAckType: '', appAckType: '' } : h;
    return { ...refusal(header, unusable.result, unusable.error, null), type: typeOf(h) };
  };
}
