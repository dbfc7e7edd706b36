// What the HL7 endpoint and the runtime ask of a journal, whichever database holds it: the
// embedded SQLite journal (group-commit.ts) or the shared PostgreSQL one (postgres/pg-journal.ts).
// Both resolve record() only once the entries are durable, so a positive ACK follows a commit.
import type { JournalEntry, JournalResult } from '../journal/journal-writer.ts';
import type { SupervisedThread } from '../platform/threads/supervised-thread.ts';
import type { JournalProtocol } from '../journal/journal-protocol.ts';
import type { JournalCommits } from './journal-commits.ts';

export interface JournalStats {
  batches: number;
  entries: number;
  largestBatch: number;
}

export interface JournalStore {
  /** Commits the entries (with every other pending entry) and resolves once they are durable. */
  record(entries: JournalEntry[]): Promise<JournalResult[]>;
  /** Records the final ACK of an `ack after_workflow` message. */
  updateAck(messageId: number, ack: string, status: string): Promise<void>;
  /** Drops message content received before `cutoff` (epoch ms); resolves to the rows touched. */
  purgeContent(cutoff: number): Promise<number>;
  /** False while the journal cannot write: /ready says not ready. */
  readonly healthy: boolean;
  /** The writer thread, for the SQLite journal; undefined otherwise. */
  readonly thread?: SupervisedThread<JournalProtocol> | undefined;
  readonly stats: JournalStats;
  /** A `commit` event per durable batch (entries, seconds). */
  readonly commits: JournalCommits;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** A request waiting for its entries to be committed. */
export interface JournalWaiter {
  entries: JournalEntry[];
  resolve: (r: JournalResult[]) => void;
  reject: (e: Error) => void;
}

/**
 * Takes the next batch off the queue: whole requests, at least one, and no more than `maxBatch`
 * entries unless the first request alone holds more.
 */
export function takeBatch(queue: JournalWaiter[], maxBatch: number): { taken: JournalWaiter[]; entries: JournalEntry[] } {
  const taken: JournalWaiter[] = [];
  let count = 0;
  while (queue.length && (count === 0 || count + queue[0]!.entries.length <= maxBatch)) {
    const w = queue.shift()!;
    taken.push(w);
    count += w.entries.length;
  }
  return { taken, entries: taken.flatMap((w) => w.entries) };
}
