// The journal's writer thread: fsync at commit happens here, off the event loop that serves
// partners. Receives requests from group-commit.ts and answers each with its id.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../store/open-database.ts';
import { JournalWriter } from './journal-writer.ts';
import { packResults, unpackBatch, type WorkerRequest, type WorkerResponse } from './journal-protocol.ts';

const { file } = workerData as { file: string };
const db = openDatabase(file, { migrate: false });
const writer = new JournalWriter(db);
const port = parentPort!;

port.on('message', (req: WorkerRequest) => {
  let res: WorkerResponse;
  try {
    switch (req.op) {
      case 'batch': res = { id: req.id, ok: true, value: packResults(writer.writeBatch(unpackBatch(req.fields, req.bytes))) }; break;
      case 'ack': writer.updateAck(req.messageId, req.ack, req.status); res = { id: req.id, ok: true, value: null }; break;
      case 'purge': res = { id: req.id, ok: true, value: writer.purgeContent(req.cutoff) }; break;
      case 'close': db.close(); res = { id: req.id, ok: true, value: null }; break;
    }
  } catch (err) {
    res = { id: req.id, ok: false, error: (err as Error).message };
  }
  port.postMessage(res);
});
port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies WorkerResponse);
