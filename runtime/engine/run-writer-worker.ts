// The engine's writer thread (see run-writer.ts). Writes that arrive in the same turn commit in
// one transaction (group commit); each is answered once that transaction committed. When a batch
// fails, its writes are retried one by one so that only the faulty one reports the error.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { RunStore } from './run-store.ts';
import { applyWrite, decodeOnThread, type Reply, type ThreadMessage, type WriteOp } from './run-writer.ts';

const { file } = workerData as { file: string };
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
const store = new RunStore(db);
const port = parentPort!;

let queue: Array<{ id: number; w: WriteOp }> = [];
let scheduled = false;
const batch = db.transaction((items: Array<{ id: number; w: WriteOp }>) => items.map((i) => applyWrite(store, i.w)));

function flush(): void {
  scheduled = false;
  const items = queue;
  queue = [];
  let replies: Reply[];
  try {
    const values = batch.immediate(items);
    replies = items.map((item, i) => ({ id: item.id, ok: true, value: values[i] ?? null }));
  } catch {
    replies = items.map((item) => {
      try {
        return { id: item.id, ok: true, value: applyWrite(store, item.w) ?? null };
      } catch (err) {
        return { id: item.id, ok: false, error: (err as Error).message };
      }
    });
  }
  port.postMessage(replies);
}

port.on('message', (messages: ThreadMessage[]) => {
  for (const m of messages) queue.push({ id: m.id, w: decodeOnThread(m) });
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
