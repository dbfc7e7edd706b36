// The HL7 v2 core: decoding bodies, splitting batches, parsing ER7 lazily, escapes and ACKs.
export type { Delimiters } from './delimiters.ts';
export { defaultDelimiters, delimitersFrom, encodingCharsOf } from './delimiters.ts';
export { Hl7ParseError, Hl7CharsetError } from './errors.ts';
export { unescapeHl7, escapeHl7 } from './escape.ts';
export type { Hl7Header } from './header.ts';
export type { Hl7Value, Hl7FieldPath, Hl7Tree } from './message.ts';
export { Hl7Message, Hl7Segment, Hl7Repetition, parseMessage, serialize } from './message.ts';
export type { SegmentBreaks, SplitResult, BatchInfo, UndeclaredBreak } from './batch.ts';
export { splitBatch, findUndeclaredBreak } from './batch.ts';
export type { DecodeOptions } from './charset.ts';
export { decodeBody, encodingFor, sniffMsh18 } from './charset.ts';
export type { AckCode, AckCondition, AckError, AckErrorLocation, AckOutcome, AckMode, BuildAckOptions } from './ack.ts';
export { buildAck, ackModeFor, ackCodeFor, ackWanted, isAck, errorCodeText, hl7Timestamp, newControlId } from './ack.ts';
