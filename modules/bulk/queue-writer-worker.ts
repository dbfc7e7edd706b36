// The thread of queue-writer.ts: one connection (synchronous=NORMAL, as the engine's: a commit
// survives a crash of the process), one transaction per batch.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { applyBatches } from './queue-writer.ts';

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
const apply = applyBatches(db);

parentPort!.on('message', ({ seq, batch }) => {
  try {
    parentPort!.postMessage({ seq, ids: apply(batch) });
  } catch (err) {
    parentPort!.postMessage({ seq, error: (err as Error).message });
  }
});
