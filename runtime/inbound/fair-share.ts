// One partner's huge batch must not stall the others. A batch is parsed in time slices that give
// the event loop back between them, and journaled in bounded chunks, so other requests' entries
// join the next group commit instead of waiting behind 20,000 rows; a single message is
// unaffected (no yield, one journal call).
import type { JournalStore } from '../store/journal-store.ts';
import type { JournalEntry, JournalResult } from '../journal/journal-writer.ts';

/** Longest stretch of synchronous per-message work before other requests get a turn. */
export const SLICE_MS = 8;
/** A body this large is decoded and split between yields. */
export const LARGE_BODY_BYTES = 1024 * 1024;
/** Most entries of one request in one journal call (one transaction). */
export const JOURNAL_CHUNK = 200;

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Measures a slice of work; `due()` says when to yield (checked every 32 items, cheaply). */
export class TimeSlice {
  private start = performance.now();
  due(i: number): boolean {
    if ((i & 31) !== 31 || performance.now() - this.start < SLICE_MS) return false;
    this.start = performance.now();
    return true;
  }
  restart(): void {
    this.start = performance.now();
  }
}

/**
 * Journals entries in chunks of JOURNAL_CHUNK, one after the other. Each result is null where its
 * chunk could not be written (the error goes to `onError`): the chunks before it are durable and
 * keep their ACKs, the failed ones are answered as not stored.
 */
export async function recordInChunks(journal: JournalStore, entries: JournalEntry[], onError: (err: Error) => void): Promise<(JournalResult | null)[]> {
  if (entries.length <= JOURNAL_CHUNK) {
    try {
      return await journal.record(entries);
    } catch (err) {
      onError(err as Error);
      return entries.map(() => null);
    }
  }
  const results: (JournalResult | null)[] = [];
  for (let i = 0; i < entries.length; i += JOURNAL_CHUNK) {
    const chunk = entries.slice(i, i + JOURNAL_CHUNK);
    try {
      results.push(...(await journal.record(chunk)));
    } catch (err) {
      onError(err as Error);
      for (let j = 0; j < chunk.length; j++) results.push(null);
    }
  }
  return results;
}
