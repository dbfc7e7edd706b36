// One event per HL7 message the listener answered, for whoever watches traffic (the traffic log
// line, the monitoring module's rollups and metrics). Carries no PHI: no control ID, no content.
import { EventEmitter } from 'node:events';

export interface AnsweredMessage {
  /** The sender's name, or null when no sender matched. */
  sender: string | null;
  /** MSH-9.1^MSH-9.2, or '' when unreadable. */
  messageType: string;
  /** The ACK code sent (AA, AE, AR, CA, CE, CR). */
  ackCode: string;
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  /** From the request's arrival to the answer being ready. */
  latencyMs: number;
  /** The journal row, when the message was stored (or found stored: a resend). */
  messageId?: number;
  /** A resend answered with its stored ACK. */
  duplicate: boolean;
  /** The control ID was reused by a different message of the same sender. */
  reusedControlId: boolean;
}

interface InboundEventMap {
  message: [AnsweredMessage];
}

export class InboundEvents extends EventEmitter<InboundEventMap> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
}
