// Messages between the group committer and the journal worker thread.
import type { JournalEntry } from './journal-writer.ts';

export type WorkerRequest =
  | { id: number; op: 'batch'; entries: JournalEntry[] }
  | { id: number; op: 'ack'; messageId: number; ack: string; status: string }
  | { id: number; op: 'purge'; cutoff: number }
  | { id: number; op: 'close' };

export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
