// The thread of queue-writer.ts: one connection (synchronous=NORMAL, as the engine's: a commit
// survives a crash of the process), one transaction per batch, fenced by the runtime's lease.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { sqliteModuleRuns } from '../../runtime/workflows/module-runs.ts';
import { sqliteSql } from '../../runtime/store/shared-sql.ts';
import { BulkStore, LeaseLost } from './bulk-store.ts';
import type { QueueBatch } from './queue-writer.ts';

const { file, owner } = workerData as { file: string; owner: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
const store = new BulkStore(sqliteSql(db), sqliteModuleRuns(db), owner);

parentPort!.on('message', ({ seq, batch }: { seq: number; batch: QueueBatch }) => {
  store.applyBatch(batch).then(
    (ids) => parentPort!.postMessage({ seq, ids }),
    (err: Error) => parentPort!.postMessage({ seq, error: err.message, leaseLost: err instanceof LeaseLost, exportId: batch.exportId }),
  );
});
