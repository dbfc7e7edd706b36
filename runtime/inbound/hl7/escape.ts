// HL7 v2 escape sequences (chapter 2.7). Decoding turns the delimiter escapes and \Xhh..\ into
// text; highlighting (\H\ \N\), formatting (\.br\ \.sp\ ...), charset switches (\Cxxyy\ \Mxxyyzz\)
// and local (\Z..\) sequences have no plain-text meaning, so they are kept exactly as written.
import { isUtf8 } from 'node:buffer';
import type { Delimiters } from './delimiters.ts';

const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/** Decodes the escape sequences of one leaf value (already split out of its delimiters). */
export function unescapeHl7(text: string, d: Delimiters): string {
  const esc = d.escape;
  if (esc === '') return text; // MSH-2 declared no escape character
  let j = text.indexOf(esc);
  if (j < 0) return text;
  let out = '';
  let i = 0;
  while (j >= 0) {
    const k = text.indexOf(esc, j + 1);
    if (k < 0) break; // unterminated: the rest is literal text
    const seq = text.slice(j + 1, k);
    let decoded: string | undefined;
    switch (seq) {
      case 'F': decoded = d.field; break;
      case 'S': decoded = d.component; break;
      case 'T': decoded = d.subcomponent; break;
      case 'R': decoded = d.repetition; break;
      case 'E': decoded = esc; break;
      case 'P': decoded = d.truncation; break;
      default:
        if (seq.length > 1 && seq[0] === 'X' && HEX.test(seq.slice(1))) decoded = decodeHex(seq.slice(1));
    }
    if (decoded === undefined) {
      // Not a sequence we translate: keep it as written, and resume at the closing escape only
      // when the body looks like a sequence (so "C:\dir\" keeps its backslashes in place).
      out += text.slice(i, k + 1);
    } else {
      out += text.slice(i, j) + decoded;
    }
    i = k + 1;
    j = text.indexOf(esc, i);
  }
  return out + text.slice(i);
}

/** \Xhh..\ carries bytes: ASCII as is, otherwise UTF-8 when valid, else ISO-8859-1. */
function decodeHex(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** Escapes text for use as one leaf value with these delimiters; CR and LF become \X0D\ \X0A\. */
export function escapeHl7(text: string, d: Delimiters): string {
  // Most values (IDs, codes, versions) need no escaping: return them without rebuilding.
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text[i];
    plain = c !== d.escape && c !== d.field && c !== d.component && c !== d.subcomponent && c !== d.repetition &&
      c !== d.truncation && c !== '\r' && c !== '\n';
  }
  if (plain) return text;
  let out = '';
  for (const c of text) {
    if (c === d.escape) out += d.escape + 'E' + d.escape;
    else if (c === d.field) out += d.escape + 'F' + d.escape;
    else if (c === d.component) out += d.escape + 'S' + d.escape;
    else if (c === d.subcomponent) out += d.escape + 'T' + d.escape;
    else if (c === d.repetition) out += d.escape + 'R' + d.escape;
    else if (d.truncation !== undefined && c === d.truncation) out += d.escape + 'P' + d.escape;
    else if (c === '\r') out += d.escape + 'X0D' + d.escape;
    else if (c === '\n') out += d.escape + 'X0A' + d.escape;
    else out += c;
  }
  return out;
}
