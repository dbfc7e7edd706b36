// The answer to a journaled message. A resend gets the ACK stored for it; a control ID reused
// under `control_id_reuse reject` gets AR 205; everything else gets the commit-level ACK that was
// journaled with it — or, for `ack after_workflow`, the workflow's own outcome once its runs
// settled within the sender's timeout (recorded in the journal before it is sent).
import type { Sender } from '../../plan/plan.types.ts';
import { ackCodeFor, buildAck, type AckOutcome, type Hl7Header } from './hl7/index.ts';
import type { JournalStore } from '../store/journal-store.ts';
import type { JournalResult } from '../journal/journal-writer.ts';
import type { FinishedEvent, RunEvents } from '../journal/run-events.ts';
import type { Logger } from '../platform/log/logger.ts';
import { refusal } from './message-checks.ts';
import { msaCode, type AnsweredState, type Pending, type Stored } from './message-state.ts';

export interface AckSettlementDeps {
  journal: JournalStore;
  events: RunEvents;
  log: Logger;
  /** Wait for after_workflow when the sender names no timeout. */
  defaultAckTimeoutMs?: number;
}

/** The application-level answer once the workflow runs settled. */
function afterWorkflowOutcome(header: Hl7Header, finished: FinishedEvent[]): { outcome: AckOutcome; status: string } {
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

export function createAckSettlement(deps: AckSettlementDeps) {
  const { journal, events, log } = deps;

  /** The state a journal result puts a pending message in. */
  function settle(p: Pending, r: JournalResult): AnsweredState {
    if (r.kind === 'duplicate') return { kind: 'duplicate', ack: r.ack, code: msaCode(r.ack), type: p.type, sender: p.sender, messageId: r.messageId };
    if (r.kind === 'reuse-refused') {
      return refusal(p.header, 'rejected', {
        code: 205, location: { segment: 'MSH', sequence: 1, field: 10 },
        text: 'duplicate key identifier: this control ID was already used for a different message from the same sending system',
      }, p.sender, { reuseOf: r.reuseOf });
    }
    return {
      kind: 'stored', ack: p.journal.ack, code: msaCode(p.journal.ack), type: p.type, sender: p.sender,
      messageId: r.messageId, runIds: r.runIds, reuseOf: r.reuseOf, pending: p,
    };
  }

  /** Whether the message's answer waits for its workflow runs. */
  function waitsForWorkflow(s: AnsweredState): s is Stored {
    return s.kind === 'stored' && s.pending.entry.sender.ack.mode === 'after_workflow' && s.runIds.length > 0;
  }

  /** For `ack after_workflow`: replaces the commit ACK with the workflow's outcome when it is known in time. */
  async function awaitWorkflow(s: Stored): Promise<void> {
    const sender: Sender = s.pending.entry.sender;
    const timeout = sender.ack.timeoutMs ?? deps.defaultAckTimeoutMs ?? 10_000;
    // A wait ends early (null) when the run's next attempt is due after the timeout.
    const waits = s.runIds.map((id) => events.waitForFinished(id, timeout));
    // A run that settled before this wait began and no one claimed is a dead letter already; its
    // rejection is not this ACK's to carry.
    const finished = (await Promise.all(waits)).filter((f): f is FinishedEvent => f !== null && f.reason === undefined);
    const pending = s.runIds.length - finished.length;
    // A rejection that arrived is always reported: the engine counted on this ACK to carry it.
    if (pending > 0 && !finished.some((f) => f.status !== 'done')) {
      // The message is safely journaled, so the commit-level ACK is the honest answer; the
      // workflow's own outcome is recorded on its run (a later rejection becomes a dead letter).
      log.info({ sender: sender.name, messageId: s.messageId, pending }, 'after_workflow: outcome not known within the timeout; answered with the commit ACK');
      return;
    }
    const { outcome, status } = afterWorkflowOutcome(s.pending.header, finished);
    const final = buildAck(s.pending.header, outcome);
    try {
      await journal.updateAck(s.messageId, final, status);
      s.ack = final;
      s.code = outcome.code;
    } catch (err) {
      log.error({ messageId: s.messageId, err: (err as Error).message }, 'could not record the final ACK; answering with the commit ACK');
    }
  }

  return { settle, waitsForWorkflow, awaitWorkflow };
}
