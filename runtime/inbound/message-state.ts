// What the listener knows of one message of a request as it moves through the pipeline:
// checked (refused, or pending with its journal entry ready) → journaled (stored, or a resend
// answered with its stored ACK). Each state holds exactly what is true of it, so an ACK, a
// journal result or a sender cannot be read where it does not exist yet.
import type { Hl7Header } from './hl7/index.ts';
import type { JournalEntry } from '../journal/journal-writer.ts';
import type { SenderEntry } from './sender-directory.ts';

/** Every answered state: the ACK sent, its MSA-1 code, MSH-9.1^MSH-9.2 and the sender. */
interface Answered {
  ack: string;
  code: string;
  type: string;
  /** null when no sender matched the message. */
  sender: string | null;
}

/** An acknowledgment that was posted: acknowledgments are never acknowledged. */
export interface Skipped { kind: 'skipped' }

/** Answered without being journaled (AE, AR, CE, CR). */
export interface Refused extends Answered {
  kind: 'refused';
  /** Refused because its control ID was already used by another message (`control_id_reuse reject`). */
  reuseOf?: number;
}

/** Passed every check; its journal entry (with the commit-level ACK) is ready to be written. */
export interface Pending {
  kind: 'pending';
  type: string;
  sender: string;
  header: Hl7Header;
  entry: SenderEntry;
  journal: JournalEntry;
}

/** Journaled: answered with the commit ACK, or with the workflow's outcome for `ack after_workflow`. */
export interface Stored extends Answered {
  kind: 'stored';
  messageId: number;
  runIds: number[];
  /** An earlier message from the same sending system whose control ID this one reuses. */
  reuseOf: number | null;
  pending: Pending;
}

/** A resend of a journaled message: answered with the ACK stored for it, byte for byte. */
export interface Duplicate extends Answered {
  kind: 'duplicate';
  messageId: number;
}

export type MessageState = Skipped | Refused | Pending | Stored | Duplicate;
export type AnsweredState = Refused | Stored | Duplicate;

/** MSA-1 of an ACK the listener built or stored. */
export function msaCode(ack: string): string {
  const i = ack.indexOf('\rMSA');
  return i < 0 ? '' : ack.slice(i + 5, i + 7);
}
