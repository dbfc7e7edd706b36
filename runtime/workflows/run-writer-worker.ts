// The engine's writer thread (see run-writer.ts). Writes that arrive together commit in one
// transaction (group commit); each is answered once that transaction committed. When a batch
// fails, its writes are retried one by one so that only the faulty one reports the error.
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { RunStore } from './run-store.ts';
import { applyWrite, decodeOnThread, type RunWriterProtocol, type WriteOp } from './run-writer.ts';
import { outcomeOf, serveChannel, type Outcome } from '../platform/threads/thread-channel.ts';

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
const store = new RunStore(db);
const batch = db.transaction((writes: WriteOp[]) => writes.map((w) => applyWrite(store, w)));

serveChannel<RunWriterProtocol>((requests) => {
  const writes = requests.map(decodeOnThread);
  try {
    return batch.immediate(writes).map((value): Outcome => ({ ok: true, value: value ?? null }));
  } catch {
    return writes.map((w) => outcomeOf(() => applyWrite(store, w)));
  }
});
