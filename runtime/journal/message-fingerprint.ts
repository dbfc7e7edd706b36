// What makes two messages "the same message" for the resend rule: the sender's message text with
// the contents of MSH-7 (date/time of message) and MSH-10 (control ID) blanked, hashed. A resend
// often carries a new MSH-7; everything else, MSH-3/MSH-4 included, must be identical.
//
// The hash is taken over the decoded text as split from the body (segments end with CR), not over
// the body's bytes: field boundaries are then found for every charset (in Shift_JIS or UTF-16 a
// byte equal to `|` need not be a separator), and a message resent with other framing (CRLF or LF
// segment breaks, a trailing newline, inside or outside a batch, another charset label) is still
// the same message. Any difference in content, even one character, is another message.
import { createHash } from 'node:crypto';
import type { Hl7Header } from '../inbound/hl7/index.ts';

/** MSH-3 and MSH-4 as written: the system that numbers its messages' MSH-10. */
export function sendingSystemOf(h: Hl7Header): string {
  return h.sendingApplication + h.fieldSep + h.sendingFacility;
}

/**
 * SHA-256 of `text` (one message, starting with MSH) with MSH-7 and MSH-10 emptied, its first 128
 * bits in base64url (22 characters): fingerprints are only compared among messages with the same
 * sender and control ID, and a short key keeps the journal's unique index small.
 */
export function messageFingerprint(text: string): string {
  const hash = createHash('sha256');
  const sep = text.charCodeAt(3);
  let end = text.indexOf('\r');
  if (end < 0) end = text.length;
  let field = 2; // the characters after MSH-1 are MSH-2; each separator opens the next field
  let from = 0;
  for (let i = 4; i < end; i++) {
    if (text.charCodeAt(i) !== sep) continue;
    field++;
    if (field === 7 || field === 10) {
      hash.update(text.slice(from, i + 1));
      let next = text.indexOf(text[3]!, i + 1);
      if (next < 0 || next > end) next = end;
      from = next;
      i = next - 1;
    }
    if (field >= 10) break;
  }
  hash.update(from === 0 ? text : text.slice(from));
  return hash.digest().toString('base64url', 0, 16);
}
