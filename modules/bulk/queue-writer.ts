// Commits what a file's lines produced — their workflow runs, error records and the file's new
// progress, in one transaction — on a thread of its own, so reading and parsing the next lines
// goes on while SQLite writes (a resource is a queued run of about its own size).
import type { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { startThread } from '../../runtime/platform/threads/thread-bootstrap.ts';
import { ModuleRuns } from '../../runtime/workflows/module-runs.ts';
import { BulkStore } from './bulk-store.ts';

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

/** The transaction a batch is: its runs queued, its error records, the file's progress. */
export function applyBatches(db: Database): (b: QueueBatch) => number[] {
  const runs = new ModuleRuns(db);
  const store = new BulkStore(db);
  const tx = db.transaction((b: QueueBatch): number[] => {
    const now = Date.now();
    const ids = b.runs.map((r) => runs.enqueue(b.source, b.sender, r, now));
    for (const e of b.errors) store.recordError(b.exportId, b.idx, e.line, e.reason);
    store.recordProgress(b.exportId, b.idx, b.lines, b.bytes, b.resources, b.addedBytes, b.errors.length);
    return ids;
  });
  return (b) => tx.immediate(b);
}

export interface BatchQueue {
  commit(batch: QueueBatch): Promise<number[]>;
  close(): Promise<void>;
}

/** Commits on the caller's thread (its own connection): less memory than a thread, no overlap. */
export class InlineQueue implements BatchQueue {
  private readonly apply: (b: QueueBatch) => number[];

  constructor(db: Database) {
    this.apply = applyBatches(db);
  }

  commit(batch: QueueBatch): Promise<number[]> {
    try {
      return Promise.resolve(this.apply(batch));
    } catch (err) {
      return Promise.reject(err);
    }
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

  constructor(dbFile: string) {
    this.worker = startThread({ module: './queue-writer-worker', from: import.meta.url, workerData: { file: dbFile } });
    this.worker.on('message', (m: { seq: number; ids?: number[]; error?: string }) => {
      const w = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      if (m.error !== undefined) w?.reject(new Error(m.error));
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
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.postMessage({ seq, batch });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
