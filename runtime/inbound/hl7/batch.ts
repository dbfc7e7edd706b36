// Splits a body into messages: FHS/BHS batches, bare concatenations of messages, or one message.
// Which line endings end a segment is the sender's policy: CR is the standard; with `cr` a bare LF
// stays inside the field value where it appears. When LF or CRLF may end a segment, a line that
// does not start with a segment ID and the field separator continues the field before it (a bare
// line feed inside a value, as lab results carry): it is kept in the value as LF.
//
// A line break the policy does not accept but that is followed by a segment ID and the field
// separator is reported (`undeclared`): the sender is sending breaks it was not declared with, and
// the message would otherwise be read as one long segment.
export type SegmentBreaks = 'cr' | 'crlf' | 'lf' | 'any';

/** A line break of a kind the policy does not accept, placed where a segment would start. */
export interface UndeclaredBreak {
  found: 'cr' | 'lf' | 'crlf';
  /** 1-based line (counting any line ending) of the segment after the break. */
  line: number;
  /** The segment ID after the break. */
  segment: string;
}

export interface BatchInfo {
  /** The FHS segment text, when present. */
  fhs?: string;
  /** The (first) BHS segment text, when present. */
  bhs?: string;
  /** BTS-1 (or FTS-1 when there is no BTS): the message count the sender declared. */
  declaredCount?: number;
  /** Where BTS-1/FTS-1 disagree with what the body holds, one sentence each. */
  countMismatches?: string[];
}

export interface SplitResult {
  /** Each message with CR-terminated segments (every segment, the last included, ends with CR). */
  messages: string[];
  /** 1-based line in the input where each message starts (for located errors). */
  lines: number[];
  /** Present when the body carried batch or file headers/trailers. */
  batch?: BatchInfo;
  /** The first line break of a kind the policy does not accept, followed by a segment. */
  undeclared?: UndeclaredBreak;
}

const BREAKS: Record<SegmentBreaks, RegExp> = {
  cr: /\r/,
  crlf: /\r\n/,
  lf: /\n/,
  any: /\r\n|\r|\n/,
};

function countOf(segment: string): number | undefined {
  const sep = segment[3];
  if (sep === undefined) return undefined;
  const v = segment.split(sep)[1]?.trim();
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** [A-Z][A-Z0-9]{2} then the field separator at text[at]. */
function startsSegment(text: string, at: number, sep: string): boolean {
  const a = text.charCodeAt(at);
  if (a < 0x41 || a > 0x5a) return false;
  for (let k = 1; k < 3; k++) {
    const c = text.charCodeAt(at + k);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return text[at + 3] === sep;
}

/** The field separator the body declares (MSH-1, FHS-1, BHS-1), '|' when it declares none. */
function fieldSeparatorOf(body: string): string {
  const head = body.slice(0, 3);
  return (head === 'MSH' || head === 'FHS' || head === 'BHS') && body.length > 3 ? body[3]! : '|';
}

/**
 * The first break the policy does not accept that is followed by a segment, when the body's
 * segments are separated by such breaks only: a line feed before "OBX|" inside a value of a
 * CR-separated message is a value. CRLF under `cr` is always reported (its LFs would start every
 * segment).
 */
export function findUndeclaredBreak(body: string, breaks: SegmentBreaks): UndeclaredBreak | undefined {
  if (breaks === 'any') return undefined;
  const accepted = breaks === 'cr' ? body.indexOf('\r') >= 0 : breaks === 'lf' ? body.indexOf('\n') >= 0 : body.indexOf('\r\n') >= 0;
  const sep = fieldSeparatorOf(body);
  const found = (at: number, kind: UndeclaredBreak['found']): UndeclaredBreak => {
    let line = 1;
    const head = body.slice(0, at);
    for (let i = 0; i < head.length; i++) {
      const c = head.charCodeAt(i);
      if (c === 0x0a || (c === 0x0d && head.charCodeAt(i + 1) !== 0x0a)) line++;
    }
    return { found: kind, line, segment: body.slice(at, at + 3) };
  };
  // LF: not a break under cr; a bare LF is not one under crlf.
  if (breaks === 'cr' || breaks === 'crlf') {
    for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) {
      const afterCr = i > 0 && body.charCodeAt(i - 1) === 0x0d;
      if (breaks === 'crlf' ? afterCr || accepted : !afterCr && accepted) continue;
      if (startsSegment(body, i + 1, sep)) return found(i + 1, afterCr ? 'crlf' : 'lf');
    }
  }
  // A bare CR: not a break under lf and crlf.
  if ((breaks === 'lf' || breaks === 'crlf') && !accepted) {
    for (let i = body.indexOf('\r'); i >= 0; i = body.indexOf('\r', i + 1)) {
      if (body.charCodeAt(i + 1) === 0x0a) continue;
      if (startsSegment(body, i + 1, sep)) return found(i + 1, 'cr');
    }
  }
  return undefined;
}

/** A segment name's first character: A-Z or 0-9 (so the segment is not blank). */
function startsName(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/**
 * The common case without splitting and re-joining: one message, CR breaks, MSH first, no blank
 * segment and no other MSH or batch segment. Returns the message text, or undefined when the
 * general path must decide.
 */
function singleMessage(body: string, breaks: SegmentBreaks): string | undefined {
  if (breaks !== 'cr' && !(breaks === 'any' && body.indexOf('\n') < 0)) return undefined;
  if (!body.startsWith('MSH')) return undefined;
  let start = body.indexOf('\r') + 1;
  // One line: a single segment, unless line feeds separate segments the policy does not accept.
  if (start === 0) return body.indexOf('\n') < 0 ? body + '\r' : undefined;
  while (start < body.length) {
    if (!startsName(body, start)) return undefined;
    const name = body.slice(start, start + 3);
    if (name === 'MSH' || name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS') return undefined;
    const end = body.indexOf('\r', start);
    if (end < 0) return body + '\r';
    start = end + 1;
  }
  return body;
}

/**
 * Headers and trailers of a batch body: FHS/BHS kept for the answer, BTS-1/FTS-1 summed into the
 * declared count and compared with what the body holds (a mismatch is reported, not refused).
 */
class BatchSegments {
  readonly info: BatchInfo = {};
  private readonly mismatches: string[] = [];
  private batchStart = -1;
  private batches = 0;

  /** An FHS, BHS, BTS or FTS segment, after `held` messages. */
  add(name: string, seg: string, line: number, held: number): void {
    const batch = this.info;
    if (name === 'FHS') batch.fhs ??= seg;
    else if (name === 'BHS') {
      batch.bhs ??= seg;
      this.batchStart = held;
      this.batches++;
    } else if (name === 'BTS') {
      const n = countOf(seg);
      const inBatch = held - Math.max(this.batchStart, 0);
      this.batchStart = held;
      if (n === undefined) return;
      batch.declaredCount = (batch.declaredCount ?? 0) + n;
      if (n !== inBatch) this.mismatches.push(`BTS-1 (line ${line}) declares ${n} message${n === 1 ? '' : 's'}, the batch holds ${inBatch}`);
    } else {
      const n = countOf(seg);
      if (n === undefined) return;
      if (batch.declaredCount === undefined && !batch.bhs) batch.declaredCount = n;
      // FTS-1 counts batches; a file without BHS is read as one batch of messages, as senders write it.
      const inFile = this.batches > 0 ? this.batches : held;
      const what = this.batches > 0 ? (n === 1 ? 'batch' : 'batches') : (n === 1 ? 'message' : 'messages');
      if (n !== inFile) this.mismatches.push(`FTS-1 (line ${line}) declares ${n} ${what}, the file holds ${inFile}`);
    }
  }

  result(): BatchInfo {
    if (this.mismatches.length) this.info.countMismatches = this.mismatches;
    return this.info;
  }
}

/**
 * Batches whose segments end with CR only (the standard), without splitting into segments and
 * joining them again: messages are cut from the body where an MSH or a batch segment starts. A
 * 20,000-message batch takes a fraction of the general path's time, which blocked the event loop
 * for other partners. Returns undefined where the general path must decide (a blank segment
 * inside a message, which it drops).
 */
function splitCrBody(body: string): SplitResult | undefined {
  const messages: string[] = [];
  const lines: number[] = [];
  const batch = new BatchSegments();
  let hasBatch = false;
  let start = -1; // the open message's first offset
  let end = -1; // just after the open message's last non-blank segment (its CR included)
  let gap = false; // a blank segment since then
  let line = 0;
  const flush = () => {
    if (start >= 0) messages.push(body.charCodeAt(end - 1) === 0x0d ? body.slice(start, end) : body.slice(start, end) + '\r');
    start = -1;
    gap = false;
  };
  for (let pos = 0; pos < body.length;) {
    let next = body.indexOf('\r', pos);
    if (next < 0) next = body.length;
    line++;
    const c = body.charCodeAt(pos);
    if (next === pos || ((c <= 0x20 || c >= 0x7f) && body.slice(pos, next).trim() === '')) {
      if (start >= 0) gap = true;
      pos = next + 1;
      continue;
    }
    const stop = Math.min(next + 1, body.length);
    const name = body.slice(pos, pos + 3);
    if (name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS') {
      flush();
      hasBatch = true;
      batch.add(name, body.slice(pos, next), line, messages.length);
    } else if (name === 'MSH' || start < 0) {
      flush();
      start = pos;
      end = stop;
      lines.push(line);
    } else {
      if (gap) return undefined;
      end = stop;
    }
    pos = next + 1;
  }
  flush();
  return hasBatch ? { messages, lines, batch: batch.result() } : { messages, lines };
}

export function splitBatch(text: string, breaks: SegmentBreaks): SplitResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // The fast path takes only bodies whose CR breaks all start segments: none to report there.
  const single = singleMessage(body, breaks);
  if (single !== undefined) return { messages: [single], lines: [1] };
  const undeclared = findUndeclaredBreak(body, breaks);
  // CR-only bodies (the standard) are cut without splitting into segments: a 20,000-message batch
  // would otherwise block the event loop for other partners.
  if (!undeclared && breaks === 'cr' && body.indexOf('\n') < 0) {
    const fast = splitCrBody(body);
    if (fast) return fast;
  }
  const lineBreak = /\r\n|\r|\n/g;
  // Lines that are not segments continue the field before them when LF or CRLF may end a segment.
  const continues = breaks !== 'cr';
  // Physical line numbers of each segment, for error locations, are counted with any line ending.
  const segs = body.split(BREAKS[breaks]);
  const messages: string[] = [];
  const lines: number[] = [];
  const batch = new BatchSegments();
  let hasBatch = false;
  let current: string[] | undefined;
  let sep = fieldSeparatorOf(body);
  let line = 1;
  const flush = () => {
    if (current && current.length) messages.push(current.join('\r') + '\r');
    current = undefined;
  };
  for (let seg of segs) {
    const segLine = line;
    line += 1 + (seg.match(lineBreak)?.length ?? 0);
    // With lf, a CRLF body passes: the CR before each LF is dropped, never kept inside a value.
    if (breaks === 'lf' && seg.charCodeAt(seg.length - 1) === 0x0d) seg = seg.slice(0, -1);
    if (seg.trim() === '') continue;
    if (continues && current && current.length && !startsSegment(seg, 0, sep)) {
      current[current.length - 1] += '\n' + seg;
      continue;
    }
    const name = seg.slice(0, 3);
    if (name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS') {
      flush();
      hasBatch = true;
      if (name !== 'BTS' && name !== 'FTS' && seg.length > 3) sep = seg[3]!;
      batch.add(name, seg, segLine, messages.length);
      continue;
    }
    if (name === 'MSH' || !current) {
      flush();
      current = [];
      lines.push(segLine);
      if (name === 'MSH' && seg.length > 3) sep = seg[3]!;
    }
    current.push(seg);
  }
  flush();
  const out: SplitResult = hasBatch ? { messages, lines, batch: batch.result() } : { messages, lines };
  if (undeclared) out.undeclared = undeclared;
  return out;
}
