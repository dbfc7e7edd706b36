// Structure checks that refuse a message whose text is broken rather than merely unusual: a line
// that is not a segment, an MSH that swallowed other segments (joined by spaces or by the field
// separator, pasted from a document), a header field cut by a line break. Each refusal is AR (CR
// in enhanced mode) with an ERR locating what looks wrong; none depends on the sender. Only the
// MSH is read field by field, so the lazy parse stays lazy for the rest of the message.
import type { Hl7Message, UndeclaredBreak } from './hl7/index.ts';
import type { SegmentBreaks } from './hl7/index.ts';
import type { Refusal } from './acceptance.ts';

/** MSH fields each version defines (2.8 and its ballots: 28). */
const MSH_FIELDS: Record<string, number> = {
  '2.1': 14, '2.2': 17, '2.3': 19, '2.3.1': 20, '2.4': 21, '2.5': 21, '2.5.1': 21,
  '2.6': 25, '2.7': 25, '2.7.1': 25, '2.8': 28, '2.8.1': 28, '2.8.2': 28,
};
/** Fields beyond the version's last that still pass: senders pre-adopt a later version's fields. */
const MSH_SLACK = 4;

/**
 * Segment IDs common enough that seeing one as (the end of) an MSH field means a joined segment.
 * BHS and PRT are left out: they are also ISO 3166 country codes (Bahamas, Portugal), which MSH-17
 * and facility names carry.
 */
const SEGMENT_IDS = new Set((
  'ACC AIG AIL AIP AIS AL1 ARV BTS CON DB1 DG1 DRG DSC DSP ERR EVN FHS FT1 FTS GT1 IAM IN1 IN2 IN3 ' +
  'MRG MSA MSH NK1 NTE OBR OBX ORC PD1 PDA PID PR1 PV1 PV2 QAK QPD QRD RCP RGS ROL RXA RXC RXD RXE RXO ' +
  'RXR SCH SFT SPM TQ1 TXA UB1 UB2'
).split(' '));

const BREAK_NAMES: Record<UndeclaredBreak['found'] | SegmentBreaks, string> = { cr: 'CR', lf: 'LF', crlf: 'CRLF', any: 'CR, LF or CRLF' };

function rejected(code: number, text: string, location: Refusal['error']['location']): Refusal {
  return { result: 'rejected', error: { code, text, ...(location ? { location } : {}) } };
}

/** "segments are separated by LF (line 2, before EVN), but {who} accepts CR only" */
export function describeUndeclaredBreak(found: UndeclaredBreak, accepts: SegmentBreaks, who: string): string {
  return `segments are separated by ${BREAK_NAMES[found.found]} (line ${found.line}, before ${found.segment}), but ${who} accepts ${BREAK_NAMES[accepts]} only`;
}

/** Segment breaks the sender does not accept: refused rather than read as one long segment. */
export function undeclaredBreakRefusal(found: UndeclaredBreak, accepts: SegmentBreaks): Refusal {
  return rejected(100,
    `${describeUndeclaredBreak(found, accepts, 'this sender')}: send CR (the standard) or declare line_endings ${found.found} (or any) for this sender`,
    { segment: found.segment });
}

/** The first thing that makes the message's structure unusable, or null. */
export function checkStructure(msg: Hl7Message): Refusal | null {
  const bad = msg.invalidSegment;
  if (bad) {
    const seg = msg.segment(bad.index)!;
    const shown = bad.text.replace(/[\r\n\t]/g, ' ');
    return rejected(100,
      `line ${bad.line} is not a segment: "${shown}" does not start with a segment ID (A-Z, then two of A-Z or 0-9) and the field separator`,
      { segment: seg.name.slice(0, 3) || '???', sequence: bad.index + 1 });
  }
  return checkHeader(msg);
}

function checkHeader(msg: Hl7Message): Refusal | null {
  const msh = msg.segment(0)!;
  const raw = msh.raw;
  const count = msh.fieldCount;
  if (raw.indexOf('\n') >= 0) {
    for (let n = 3; n <= count; n++) {
      if (msh.fieldText(n).indexOf('\n') >= 0) {
        return rejected(102, `MSH-${n} is cut by a line break: the message was wrapped or pasted from a document`, { segment: 'MSH', sequence: 1, field: n });
      }
    }
  }
  let last = count;
  while (last > 2 && msh.fieldText(last) === '') last--;
  const version = msg.header.version;
  const defined = MSH_FIELDS[version] ?? 28;
  for (let n = 3; n <= last; n++) {
    const joined = joinedSegment(msh.fieldText(n), n);
    if (joined) {
      return rejected(100,
        `MSH-${n} ("${clip(msh.fieldText(n))}") holds the start of a ${joined} segment: segments joined by spaces or by the field separator instead of CR`,
        { segment: 'MSH', sequence: 1, field: n });
    }
  }
  if (last > defined + MSH_SLACK) {
    return rejected(100,
      `MSH has ${last} fields where HL7 ${MSH_FIELDS[version] ? version : 'v2'} defines ${defined}: other segments were joined to it (segment breaks lost?)`,
      { segment: 'MSH', sequence: 1, field: defined + 1 });
  }
  return null;
}

/** The segment ID a field of MSH-n starts or ends with, when it reads as a segment joined to it. */
function joinedSegment(text: string, n: number): string | undefined {
  if (text.length < 3) return undefined;
  // A whole field that is a segment ID: from MSH-13 on, MSH-17 (country) and MSH-19 (language) aside.
  if (text.length === 3) return n > 12 && n !== 17 && n !== 19 && SEGMENT_IDS.has(text) ? text : undefined;
  if (isSpace(text.charCodeAt(text.length - 4))) {
    const end = text.slice(-3);
    if (SEGMENT_IDS.has(end)) return end;
  }
  if (isSpace(text.charCodeAt(3))) {
    const start = text.slice(0, 3);
    if (SEGMENT_IDS.has(start)) return start;
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}
