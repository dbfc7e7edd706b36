// The response to a batch. A body with FHS/BHS headers is answered with a batch of ACKs in the
// same envelope (HL7 v2 chapter 2, batch acknowledgement): BHS/FHS with sender and receiver
// swapped, BHS-12/FHS-12 referring to the inbound BHS-11/FHS-11, BTS-1/FTS-1 counting the ACKs.
// A bare concatenation of messages is answered with the ACKs concatenated in the same order.
// When the inbound BTS-1/FTS-1 did not match the messages received, the answer says so in BTS-2
// (FTS-2 without a BHS), the trailer's comment; every message present is still acknowledged.
import type { BatchInfo } from './hl7/index.ts';
import { hl7Timestamp, newControlId } from './hl7/index.ts';

function answerHeader(inbound: string): string {
  const sep = inbound[3] ?? '|';
  const f = inbound.split(sep);
  // f[0]=name, f[1]=encoding characters (header field 2), f[n]=field n for n>=2.
  const out = [f[0]!, f[1] ?? '^~\\&', f[4] ?? '', f[5] ?? '', f[2] ?? '', f[3] ?? '', hl7Timestamp(), '', f[8] ?? '', '', newControlId(), f[10] ?? ''];
  while (out.length > 2 && out[out.length - 1] === '') out.pop();
  return out.join(sep);
}

export function wrapBatchResponse(batch: BatchInfo | undefined, acks: string[]): string {
  if (!batch || (!batch.bhs && !batch.fhs)) return acks.join('');
  const sepOf = (s: string | undefined) => s?.[3] ?? '|';
  const parts: string[] = [];
  if (batch.fhs) parts.push(answerHeader(batch.fhs) + '\r');
  if (batch.bhs) parts.push(answerHeader(batch.bhs) + '\r');
  parts.push(...acks);
  const comment = (sep: string) => (batch.countMismatches ? sep + batch.countMismatches.join('; ').replace(/[|^~\\&\r\n]/g, ' ') : '');
  if (batch.bhs) parts.push(`BTS${sepOf(batch.bhs)}${acks.length}${comment(sepOf(batch.bhs))}\r`);
  if (batch.fhs) parts.push(`FTS${sepOf(batch.fhs)}${batch.bhs ? 1 : acks.length}${batch.bhs ? '' : comment(sepOf(batch.fhs))}\r`);
  return parts.join('');
}
