// The engine's writes (claims, step results, stored records, final statuses). By default they go
// to a writer thread with its own SQLite connection: the event loop that runs HTTP requests and
// evaluates expressions never waits on the disk, and writes that arrive together (several runs
// finishing steps at once) share one transaction. A step's result is acknowledged only once its
// transaction committed, and the run waits for that before its next step starts.
import { Worker } from 'node:worker_threads';
import type { RunOutcome, RunStatus } from '../store/journal-schema.ts';
import type { AttemptRow, RunStore, StepRow } from './run-store.ts';

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
export interface ThreadMessage {
  id: number;
  w: WriteOp;
  /** UTF-8 result of `w.row` / `w.extra.lastStep`, in place of the string. */
  result?: Uint8Array;
}

const encoder = new TextEncoder();

function encodeForThread(id: number, op: WriteOp): { message: ThreadMessage; transfer: ArrayBuffer[] } {
  const row = op.op === 'step' || op.op === 'store' ? op.row : op.op === 'finish' ? op.extra.lastStep : undefined;
  if (!row?.result) return { message: { id, w: op }, transfer: [] };
  const result = encoder.encode(row.result);
  const slim = { ...row, result: null };
  const w: WriteOp = op.op === 'finish' ? { ...op, extra: { ...op.extra, lastStep: slim } } : { ...op, row: slim } as WriteOp;
  return { message: { id, w, result }, transfer: [result.buffer as ArrayBuffer] };
}

/** The writer thread's side of encodeForThread. */
export function decodeOnThread(m: ThreadMessage): WriteOp {
  if (!m.result) return m.w;
  const text = Buffer.from(m.result.buffer, m.result.byteOffset, m.result.byteLength).toString('utf8');
  const w = m.w;
  if (w.op === 'step' || w.op === 'store') w.row.result = text;
  else if (w.op === 'finish' && w.extra.lastStep) w.extra.lastStep.result = text;
  return w;
}

export interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export class ThreadRunWriter implements RunWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private outbox: ThreadMessage[] = [];
  private transfer: ArrayBuffer[] = [];
  private posting = false;
  private readonly post = () => {
    this.posting = false;
    const batch = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    this.worker.postMessage(batch, transfer);
  };

  constructor(file: string) {
    const fromSource = import.meta.url.endsWith('.ts');
    const script = new URL(fromSource ? './run-writer-worker.ts' : './run-writer-worker.js', import.meta.url).href;
    // From TypeScript sources the thread registers the same tsx loader first.
    const loader = fromSource ? import.meta.resolve('tsx/esm/api') : null;
    const code = loader
      ? `import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); })`
      : `import(${JSON.stringify(script)})`;
    this.worker = new Worker(code, { eval: true, workerData: { file } });
    this.worker.unref();
    this.worker.on('message', (replies: Reply[]) => {
      for (const r of replies) {
        const w = this.waiting.get(r.id);
        if (!w) continue;
        this.waiting.delete(r.id);
        if (r.ok) w.resolve(r.value);
        else w.reject(new Error(r.error));
      }
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`engine writer thread exited (code ${code})`)));
  }

  write(op: WriteOp): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keep the process alive only while writes are pending.
      this.worker.ref();
      const { message, transfer } = encodeForThread(id, op);
      this.outbox.push(message);
      this.transfer.push(...transfer);
      // Writes issued in the same turn of the event loop travel as one message.
      if (!this.posting) {
        this.posting = true;
        setImmediate(this.post);
      }
    }).finally(() => {
      this.inflight.delete(p);
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.inflight.add(p);
    return p;
  }

  /** Waits for the writes in flight, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.worker.terminate();
  }
}
