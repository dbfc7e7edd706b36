// The journal's writer thread: fsync at commit happens here, off the event loop that serves
// partners. Answers group-commit.ts's requests over the shared thread channel.
import { workerData } from 'node:worker_threads';
import { openDatabase } from './open-database.ts';
import { JournalWriter } from './journal-writer.ts';
import { packResults, unpackBatch, type JournalProtocol } from './journal-protocol.ts';
import { outcomeOf, serveChannel } from '../platform/threads/thread-channel.ts';

const { file } = workerData as { file: string };
const db = openDatabase(file, { migrate: false });
const writer = new JournalWriter(db);

serveChannel<JournalProtocol>((requests) => requests.map((req) => outcomeOf(() => {
  switch (req.op) {
    case 'batch': return packResults(writer.writeBatch(unpackBatch(req.fields, req.bytes)));
    case 'ack': return writer.updateAck(req.messageId, req.ack, req.status);
    case 'purge': return writer.purgeContent(req.cutoff);
    case 'close': return db.close();
  }
})));
