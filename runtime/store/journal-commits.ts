// One event per batch a journal made durable (SQLite group commit or PostgreSQL): how many entries
// it held and how long the commit took, the writer thread's round trip included. The monitoring
// module turns them into histograms; with nobody listening an emit is a lookup and nothing else.
import { EventEmitter } from 'node:events';

export interface JournalCommit {
  /** Entries (HL7 messages) in the batch. */
  entries: number;
  /** From handing the batch to the writer to its durable commit. */
  seconds: number;
}

export class JournalCommits extends EventEmitter<{ commit: [JournalCommit] }> {}
