// Messages between the group committer and the journal worker thread.
//
// A batch travels flat: its entries' fields in one array of primitives and their raw bytes in one
// transferred buffer. Structured clone writes every property name of every object it copies, and
// copies a Buffer's whole backing store (often a pooled or socket buffer much larger than the
// message); a flat array and one exact-size transferred buffer cost a fraction of that per message.
import type { JournalEntry, JournalResult } from './journal-writer.ts';

export type Flat = (string | number | null)[];

/** The journal thread's operations (thread-channel.ts carries them). */
export type JournalProtocol = {
  batch: { request: { fields: Flat; bytes: ArrayBuffer }; response: Flat };
  ack: { request: { messageId: number; ack: string; status: string }; response: null };
  purge: { request: { cutoff: number }; response: number };
  close: { request: Record<string, never>; response: null };
};

const FIXED = 12;

/**
 * Per entry: sender, controlId, sendingSystem, contentHash, onReuse, messageType, trigger,
 * receivedAt, charset, ack, raw length, run count, then workflow, orderKey, input per run. The raw
 * bytes follow one another in `bytes`.
 */
export function packBatch(entries: readonly JournalEntry[]): { fields: Flat; bytes: ArrayBuffer } {
  let total = 0;
  for (const e of entries) total += e.raw.byteLength;
  // Its own ArrayBuffer (never the shared pool), so it can be transferred; every byte is written below.
  const bytes = Buffer.allocUnsafeSlow(total);
  const fields: Flat = [];
  let at = 0;
  for (const e of entries) {
    bytes.set(e.raw, at);
    at += e.raw.byteLength;
    fields.push(e.sender, e.controlId, e.sendingSystem, e.contentHash, e.onReuse, e.messageType, e.trigger, e.receivedAt, e.charset, e.ack, e.raw.byteLength, e.runs.length);
    for (const r of e.runs) fields.push(r.workflow, r.orderKey, r.input);
  }
  return { fields, bytes: bytes.buffer as ArrayBuffer };
}

/** The entries of a packed batch; raw bytes are views into `bytes` (SQLite copies them when binding). */
export function unpackBatch(fields: Flat, bytes: ArrayBuffer): JournalEntry[] {
  const entries: JournalEntry[] = [];
  let i = 0;
  let at = 0;
  while (i < fields.length) {
    const length = fields[i + 10] as number;
    const runCount = fields[i + 11] as number;
    const entry: JournalEntry = {
      sender: fields[i] as string, controlId: fields[i + 1] as string, sendingSystem: fields[i + 2] as string,
      contentHash: fields[i + 3] as string, onReuse: fields[i + 4] as JournalEntry['onReuse'], messageType: fields[i + 5] as string,
      trigger: fields[i + 6] as string, receivedAt: fields[i + 7] as number, charset: fields[i + 8] as string,
      status: 'accepted', ack: fields[i + 9] as string, raw: Buffer.from(bytes, at, length), runs: [],
    };
    i += FIXED;
    at += length;
    for (let r = 0; r < runCount; r++, i += 3) {
      entry.runs.push({ workflow: fields[i] as string, orderKey: fields[i + 1] as string | null, input: fields[i + 2] as string });
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Results flat: stored → 0, messageId, reuseOf, run count, run ids; duplicate → 1, messageId,
 * ack, status; reuse refused → 2, reuseOf.
 */
export function packResults(results: readonly JournalResult[]): Flat {
  const out: Flat = [];
  for (const r of results) {
    if (r.kind === 'stored') out.push(0, r.messageId, r.reuseOf, r.runIds.length, ...r.runIds);
    else if (r.kind === 'duplicate') out.push(1, r.messageId, r.ack, r.status);
    else out.push(2, r.reuseOf);
  }
  return out;
}

export function unpackResults(flat: Flat): JournalResult[] {
  const out: JournalResult[] = [];
  let i = 0;
  while (i < flat.length) {
    if (flat[i] === 0) {
      const n = flat[i + 3] as number;
      out.push({ kind: 'stored', messageId: flat[i + 1] as number, reuseOf: flat[i + 2] as number | null, runIds: flat.slice(i + 4, i + 4 + n) as number[] });
      i += 4 + n;
    } else if (flat[i] === 2) {
      out.push({ kind: 'reuse-refused', reuseOf: flat[i + 1] as number });
      i += 2;
    } else {
      out.push({ kind: 'duplicate', messageId: flat[i + 1] as number, ack: flat[i + 2] as string, status: flat[i + 3] as string });
      i += 4;
    }
  }
  return out;
}
