// The engine's writes (claims, step results, stored records, final statuses). By default they go
// to a writer thread with its own SQLite connection: the event loop that runs HTTP requests and
// evaluates expressions never waits on the disk, and writes that arrive together (several runs
// finishing steps at once) share one transaction. A step's result is acknowledged only once its
// transaction committed, and the run waits for that before its next step starts.
import type { RunOutcome, RunStatus } from '../journal/journal-schema.ts';
import type { AttemptRow, RunStore, StepRow } from './run-store.ts';
import { SupervisedThread, type RestartPolicy } from '../platform/threads/supervised-thread.ts';
import type { Logger } from '../platform/log/logger.ts';

export type WriteOp = (
  | { op: 'claim'; id: number; now: number }
  | { op: 'step'; row: StepRow }
  | { op: 'store'; rec: { collection: string; key: string | null; value: unknown; runId: number; now: number }; row: StepRow }
  | { op: 'finish'; id: number; status: RunStatus; now: number; extra: { outcome?: RunOutcome; error?: string; nextAttemptAt?: number; lastStep?: StepRow; attempt?: AttemptRow } }
  | { op: 'release'; id: number; now: number }
) & {
  /** A run's claim (status running, attempt counted), committed with the run's first write. */
  claim?: { id: number; now: number };
};

export interface RunWriter {
  write(op: WriteOp): Promise<unknown>;
  close(): Promise<void>;
  /** False while a writer thread is down (being restarted). */
  readonly up: boolean;
}

/** Applies one write; shared by the inline writer and the writer thread. */
export function applyWrite(store: RunStore, w: WriteOp): unknown {
  if (w.claim) store.claimRun(w.claim.id, w.claim.now);
  switch (w.op) {
    case 'claim':
      return store.claimRun(w.id, w.now);
    case 'step':
      return store.recordStep(w.row);
    case 'store':
      return store.storeRecord(w.rec, w.row);
    case 'finish':
      return store.finishRun(w.id, w.status, w.now, w.extra);
    case 'release':
      return store.releaseRun(w.id, w.now);
  }
}

/**
 * The writes of one run. Its claim travels with its first write (usually its first step's
 * result) instead of costing a commit of its own: a run that dies before writing anything is
 * still queued, which is what recovery would make of it anyway.
 */
export class RunSession {
  private claim?: { id: number; now: number };

  constructor(
    private readonly writer: RunWriter,
    id: number,
    now: number,
  ) {
    this.claim = { id, now };
  }

  write(op: WriteOp): Promise<unknown> {
    const claim = this.claim;
    this.claim = undefined;
    return this.writer.write(claim ? { ...op, claim } : op);
  }
}

/** Writes on the calling thread (in-memory databases, tests). */
export class InlineRunWriter implements RunWriter {
  readonly up = true;
  constructor(private readonly store: RunStore) {}
  async write(op: WriteOp): Promise<unknown> {
    return applyWrite(this.store, op);
  }
  async close(): Promise<void> {}
}

/**
 * Step results are large strings (whole FHIR Bundles). Cloning them into a message costs the
 * event loop far more than encoding them to bytes and handing the buffer over (transfer), so
 * results travel as UTF-8 bytes and are decoded on the writer thread.
 */
export interface ThreadWrite {
  w: WriteOp;
  /** UTF-8 result of `w.row` / `w.extra.lastStep`, in place of the string. */
  result?: Uint8Array;
}

/** The writer thread's operations (thread-channel.ts carries them). */
export type RunWriterProtocol = {
  write: { request: ThreadWrite; response: unknown };
};

const encoder = new TextEncoder();

function encodeForThread(op: WriteOp): { message: ThreadWrite; transfer: ArrayBuffer[] } {
  const row = op.op === 'step' || op.op === 'store' ? op.row : op.op === 'finish' ? op.extra.lastStep : undefined;
  if (!row?.result) return { message: { w: op }, transfer: [] };
  const result = encoder.encode(row.result);
  const slim = { ...row, result: null };
  const w: WriteOp = op.op === 'finish' ? { ...op, extra: { ...op.extra, lastStep: slim } } : { ...op, row: slim } as WriteOp;
  return { message: { w, result }, transfer: [result.buffer as ArrayBuffer] };
}

/** The writer thread's side of encodeForThread. */
export function decodeOnThread(m: ThreadWrite): WriteOp {
  if (!m.result) return m.w;
  const text = Buffer.from(m.result.buffer, m.result.byteOffset, m.result.byteLength).toString('utf8');
  const w = m.w;
  if (w.op === 'step' || w.op === 'store') w.row.result = text;
  else if (w.op === 'finish' && w.extra.lastStep) w.extra.lastStep.result = text;
  return w;
}

export interface ThreadRunWriterOptions {
  restart?: Partial<RestartPolicy>;
  log?: Logger;
  /** The thread kept dying: the process should exit non-zero. */
  onFatal?: (err: Error) => void;
}

/** Writes through a supervised writer thread (restarted when it dies). */
export class ThreadRunWriter implements RunWriter {
  readonly thread: SupervisedThread<RunWriterProtocol>;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(file: string, opts: ThreadRunWriterOptions = {}) {
    this.thread = SupervisedThread.launch<RunWriterProtocol>({
      name: 'engine writer',
      module: './run-writer-worker',
      from: import.meta.url,
      workerData: { file },
      // Writes issued in the same turn of the event loop travel as one message (one transaction).
      gather: true,
      // Keep the process alive only while writes are pending.
      unrefWhenIdle: true,
      ...opts,
    });
  }

  get up(): boolean {
    return this.thread.up;
  }

  write(op: WriteOp): Promise<unknown> {
    const { message, transfer } = encodeForThread(op);
    const p: Promise<unknown> = this.thread.call('write', message, transfer).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  /** Waits for the writes in flight, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.thread.close();
  }
}
