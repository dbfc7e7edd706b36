// Run by supervision.test.ts as its own process: a runtime whose journal writer dies with no
// restart allowed, and the default fatal handler (which must exit non-zero).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from '../../../runtime/platform/start-runtime.ts';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { makePlan, sender } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-fatal-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const rt = await startRuntime(makePlan([sender({ name: 'lab', path: '/hl7/lab' })]), {
  host: '127.0.0.1', port: 0, tls: null, dataDir: dir, maxBodyBytes: 1024, requestTimeoutMs: 5000, shutdownTimeoutMs: 1000,
  logPhi: false, log: createLogger({ level: 'info' }), mapFields, writerRestart: { maxRestarts: 0 },
});
await rt.journal.thread!.worker.terminate();
// The process must now exit on its own; if it does not, this timer ends it with another code.
setTimeout(() => process.exit(3), 20_000).unref();
