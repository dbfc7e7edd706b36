// Splits a byte stream into ndjson lines as it arrives, keeping the byte offset of each line's end
// (what a resume asks for with HTTP Range). Memory is bounded by the longest line, itself capped:
// a longer line is reported as one oversized line and skipped, not buffered.
import type { Readable } from 'node:stream';

export interface Line {
  /** 1-based line number within the file. */
  n: number;
  /** The line's text without its end of line; undefined when it was longer than the cap. */
  text: string | undefined;
  /** Bytes from the start of the file to the end of this line, its newline included. */
  end: number;
}

export async function* ndjsonLines(body: Readable, opts: { startLine?: number; startByte?: number; maxLineBytes?: number } = {}): AsyncGenerator<Line[]> {
  const max = opts.maxLineBytes ?? 64 * 1024 * 1024;
  let n = opts.startLine ?? 0;
  let offset = opts.startByte ?? 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const out: Line[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl < 0) break;
      let buf = chunk.subarray(from, nl);
      const len = pendingBytes + buf.length + 1;
      if (pendingBytes) {
        buf = Buffer.concat([...pending, buf]);
        pending = [];
        pendingBytes = 0;
      }
      offset += len;
      from = nl + 1;
      // Blank lines (a trailing newline, CRLF files' empty tails) are not resources.
      const text = oversized ? undefined : buf.toString('utf8', 0, buf.length && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length);
      // A resource line starts with "{": only other lines are looked at for being blank.
      if (oversized || buf[0] === 123 || text!.trim() !== '') out.push({ n: ++n, text, end: offset });
      oversized = false;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      if (!oversized) {
        pending.push(Buffer.from(rest));
        if (pendingBytes + rest.length > max) {
          oversized = true;
          pending = [];
        }
      }
      pendingBytes += rest.length;
    }
    if (out.length) yield out;
  }
  if (pendingBytes && (oversized || Buffer.concat(pending).toString('utf8').trim() !== '')) {
    yield [{ n: ++n, text: oversized ? undefined : Buffer.concat(pending).toString('utf8'), end: offset + pendingBytes }];
  }
}
