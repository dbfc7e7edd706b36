// What the chosen sender accepts, checked on the MSH header alone. A refusal here is AR (or CR in
// enhanced mode): it is unrelated to the message's content. Missing MSH-9/MSH-10 is AE 101.
import type { Sender } from '../../plan/plan.types.ts';
import type { AckError, AckErrorLocation, Hl7Header, Hl7Message } from './hl7/index.ts';
import { typeMatches } from './sender-directory.ts';

export interface Refusal {
  result: 'rejected' | 'error';
  error: AckError;
}

export function checkRequiredHeader(h: Hl7Header): Refusal | null {
  if (!h.messageCode) {
    return { result: 'error', error: { code: 101, text: 'MSH-9 (message type) is missing', location: { segment: 'MSH', sequence: 1, field: 9 } } };
  }
  if (!h.controlId) {
    return { result: 'error', error: { code: 101, text: 'MSH-10 (message control ID) is missing', location: { segment: 'MSH', sequence: 1, field: 10 } } };
  }
  return null;
}

export function checkAcceptance(sender: Sender, h: Hl7Header): Refusal | null {
  const type = `${h.messageCode}^${h.triggerEvent}`;
  if (!sender.accept.some((t) => typeMatches(t, h.messageCode, h.triggerEvent))) {
    const codeKnown = sender.accept.some((t) => t.code === '*' || t.code.toUpperCase() === h.messageCode.toUpperCase());
    return codeKnown
      ? { result: 'rejected', error: { code: 201, text: `event ${type} is not accepted from this sender`, location: { segment: 'MSH', sequence: 1, field: 9, component: 2 } } }
      : { result: 'rejected', error: { code: 200, text: `message type ${h.messageCode} is not accepted from this sender`, location: { segment: 'MSH', sequence: 1, field: 9, component: 1 } } };
  }
  if (sender.processingIds?.length && !sender.processingIds.includes(h.processingId)) {
    return { result: 'rejected', error: { code: 202, text: `processing ID "${h.processingId}" is not accepted (expected ${sender.processingIds.join(', ')})`, location: { segment: 'MSH', sequence: 1, field: 11 } } };
  }
  if (sender.strictVersion && sender.version && h.version !== sender.version) {
    return { result: 'rejected', error: { code: 203, text: `version "${h.version}" is not accepted (expected ${sender.version})`, location: { segment: 'MSH', sequence: 1, field: 12 } } };
  }
  return null;
}

/**
 * The sender's `require` list: every segment and position must hold data (`""` and bare
 * delimiters do not count). A missing one is AE (CE in enhanced mode): 100 for a segment, 101 for
 * a field, with ERR locating it.
 */
export function checkRequired(sender: Sender, msg: Hl7Message): Refusal | null {
  const required = sender.require;
  if (!required) return null;
  for (const p of required) {
    if (msg.holdsData(p)) continue;
    const sequence = typeof p.segmentRep === 'number' ? p.segmentRep : 1;
    if (p.field === undefined || msg.selectSegments(p.segment, p.segmentRep).length === 0) {
      return { result: 'error', error: { code: 100, text: `segment ${p.segment}${sequence > 1 ? `[${sequence}]` : ''} is required from this sender and is missing`, location: { segment: p.segment, sequence } } };
    }
    const location: AckErrorLocation = { segment: p.segment, sequence, field: p.field };
    if (typeof p.fieldRep === 'number') location.repetition = p.fieldRep;
    if (p.component !== undefined) location.component = p.component;
    if (p.subcomponent !== undefined) location.subcomponent = p.subcomponent;
    return { result: 'error', error: { code: 101, text: `${p.text} is required from this sender and is empty`, location } };
  }
  return null;
}
