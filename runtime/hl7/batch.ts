// Splits a body into messages: FHS/BHS batches, bare concatenations of messages, or one message.
// Which line endings end a segment is the sender's policy: CR is the standard; with `cr` a bare LF
// stays inside the field value where it appears.
export type SegmentBreaks = 'cr' | 'crlf' | 'lf' | 'any';

export interface BatchInfo {
  /** The FHS segment text, when present. */
  fhs?: string;
  /** The (first) BHS segment text, when present. */
  bhs?: string;
  /** BTS-1 (or FTS-1 when there is no BTS): the message count the sender declared. */
  declaredCount?: number;
}

export interface SplitResult {
  /** Each message with CR-terminated segments (every segment, the last included, ends with CR). */
  messages: string[];
  /** 1-based line in the input where each message starts (for located errors). */
  lines: number[];
  /** Present when the body carried batch or file headers/trailers. */
  batch?: BatchInfo;
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
  if (start === 0) return body + '\r';
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
 * Batches whose segments end with CR only (the standard), without splitting into segments and
 * joining them again: messages are cut from the body where an MSH or a batch segment starts. A
 * 20,000-message batch takes a fraction of the general path's time, which blocked the event loop
 * for other partners. Returns undefined where the general path must decide (a blank segment
 * inside a message, which it drops).
 */
function splitCrBody(body: string): SplitResult | undefined {
  const messages: string[] = [];
  const lines: number[] = [];
  const batch: BatchInfo = {};
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
      const seg = body.slice(pos, next);
      if (name === 'FHS') batch.fhs ??= seg;
      else if (name === 'BHS') batch.bhs ??= seg;
      else {
        const n = countOf(seg);
        if (name === 'BTS' && n !== undefined) batch.declaredCount = (batch.declaredCount ?? 0) + n;
        if (name === 'FTS' && batch.declaredCount === undefined && n !== undefined && !batch.bhs) batch.declaredCount = n;
      }
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
  return hasBatch ? { messages, lines, batch } : { messages, lines };
}

export function splitBatch(text: string, breaks: SegmentBreaks): SplitResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const single = singleMessage(body, breaks);
  if (single !== undefined) return { messages: [single], lines: [1] };
  if (breaks === 'cr' || (breaks === 'any' && body.indexOf('\n') < 0)) {
    const fast = splitCrBody(body);
    if (fast) return fast;
  }
  const lineBreak = /\r\n|\r|\n/g;
  // Physical line numbers of each segment, for error locations, are counted with any line ending.
  const segs = body.split(BREAKS[breaks]);
  const messages: string[] = [];
  const lines: number[] = [];
  const batch: BatchInfo = {};
  let hasBatch = false;
  let current: string[] | undefined;
  let line = 1;
  const flush = () => {
    if (current && current.length) messages.push(current.join('\r') + '\r');
    current = undefined;
  };
  for (const seg of segs) {
    const segLine = line;
    line += 1 + (seg.match(lineBreak)?.length ?? 0);
    if (seg.trim() === '') continue;
    const name = seg.slice(0, 3);
    if (name === 'FHS' || name === 'BHS') {
      flush();
      hasBatch = true;
      if (name === 'FHS') batch.fhs ??= seg;
      else batch.bhs ??= seg;
      continue;
    }
    if (name === 'BTS' || name === 'FTS') {
      flush();
      hasBatch = true;
      const n = countOf(seg);
      if (name === 'BTS' && n !== undefined) batch.declaredCount = (batch.declaredCount ?? 0) + n;
      if (name === 'FTS' && batch.declaredCount === undefined && n !== undefined && !batch.bhs) batch.declaredCount = n;
      continue;
    }
    if (name === 'MSH' || !current) {
      flush();
      current = [];
      lines.push(segLine);
    }
    current.push(seg);
  }
  flush();
  return hasBatch ? { messages, lines, batch } : { messages, lines };
}
