/**
 * The MSH fields every consumer needs, read eagerly when a message is parsed. MSH-3..7 are their
 * ER7 text exactly as written (an ACK copies them back with the same delimiters); the others are
 * decoded values, '' when absent or `""`.
 */
export interface Hl7Header {
  /** MSH-1 */
  fieldSep: string;
  /** MSH-2 normalised to 4 characters (5 with the v2.7 truncation character): see parseMessage. */
  encodingChars: string;
  /** MSH-3 (HD, ER7 text) */
  sendingApplication: string;
  /** MSH-4 (HD, ER7 text) */
  sendingFacility: string;
  /** MSH-5 (HD, ER7 text) */
  receivingApplication: string;
  /** MSH-6 (HD, ER7 text) */
  receivingFacility: string;
  /** MSH-7 (TS/DTM, as written) */
  timestamp: string;
  /** MSH-9.1 */
  messageCode: string;
  /** MSH-9.2 */
  triggerEvent: string;
  /** MSH-9.3 (from 2.3.1) */
  messageStructure: string;
  /** MSH-10 */
  controlId: string;
  /** MSH-11.1 (P, D, T) */
  processingId: string;
  /** MSH-11.2 (processing mode, e.g. I, A, R, T) */
  processingMode: string;
  /** MSH-12.1 */
  version: string;
  /** MSH-15 (AL, NE, ER, SU) */
  acceptAckType: string;
  /** MSH-16 (AL, NE, ER, SU) */
  appAckType: string;
  /** MSH-18, first repetition (HL7 table 0211) */
  charset: string;
}
