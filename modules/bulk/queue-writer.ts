// Commits what a file's lines produced — their workflow runs, error records and the file's new
// progress, in one transaction (BulkStore.applyBatch) — inline, or on SQLite on a thread of its
// own, so reading and parsing the next lines goes on while SQLite writes (a resource is a queued
// run of about its own size).
import type { Worker } from 'node:worker_threads';
import { startThread } from '../../runtime/platform/threads/thread-bootstrap.ts';
import type { RunEvents } from '../../runtime/journal/run-events.ts';
import { announceRuns } from '../../runtime/workflows/module-runs.ts';
import { LeaseLost, type BulkStore } from './bulk-store.ts';

export interface QueueBatch {
  exportId: string;
  idx: number;
  source: number;
  sender: string;
  runs: Array<{ workflow: string; input: string }>;
  errors: Array<{ line: number; reason: string }>;
  /** The file's progress once committed: lines and bytes from its start. */
  lines: number;
  bytes: number;
  resources: number;
  addedBytes: number;
}

export interface BatchQueue {
  /** Resolves with the ids of the queued runs once the transaction committed (the engines are woken). */
  commit(batch: QueueBatch): Promise<number[]>;
  close(): Promise<void>;
}

/** Commits on the caller's thread (the store's connection): less memory than a thread, no overlap. */
export class InlineQueue implements BatchQueue {
  constructor(private readonly store: BulkStore) {}

  commit(batch: QueueBatch): Promise<number[]> {
    return this.store.applyBatch(batch);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class QueueWriter implements BatchQueue {
  private readonly worker: Worker;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(ids: number[]): void; reject(err: Error): void }>();
  private failed?: Error;

  /** `owner`: the lease holder the thread's writes are fenced by (this runtime). */
  constructor(dbFile: string, owner: string, private readonly events?: RunEvents) {
    this.worker = startThread({ module: './queue-writer-worker', from: import.meta.url, workerData: { file: dbFile, owner } });
    this.worker.on('message', (m: { seq: number; ids?: number[]; error?: string; leaseLost?: boolean; exportId?: string }) => {
      const w = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      if (m.error !== undefined) w?.reject(m.leaseLost ? new LeaseLost(m.exportId!) : new Error(m.error));
      else w?.resolve(m.ids ?? []);
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the bulk queue writer stopped (exit ${code})`)));
  }

  /** Resolves with the ids of the queued runs once the transaction committed. */
  commit(batch: QueueBatch): Promise<number[]> {
    if (this.failed) return Promise.reject(this.failed);
    const seq = ++this.seq;
    return new Promise<number[]>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.postMessage({ seq, batch });
    }).then((ids) => {
      announceRuns(this.events, new Map([[batch.source, { sender: batch.sender, ids }]]));
      return ids;
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
