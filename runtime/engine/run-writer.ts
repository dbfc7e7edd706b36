// The engine's writes (claims, step results, stored records, final statuses). By default they go
// to a writer thread with its own SQLite connection: the event loop that runs HTTP requests and
// evaluates expressions never waits on the disk, and writes that arrive together (several runs
// finishing steps at once) share one transaction. A step's result is acknowledged only once its
// transaction committed, and the run waits for that before its next step starts.
import { Worker } from 'node:worker_threads';
import type { RunOutcome, RunStatus } from '../store/journal-schema.ts';
import type { RunStore, StepRow } from './run-store.ts';

export type WriteOp = (
  | { op: 'claim'; id: number; now: number }
  | { op: 'step'; row: StepRow }
  | { op: 'store'; rec: { collection: string; key: string | null; value: unknown; runId: number; now: number }; row: StepRow }
  | { op: 'finish'; id: number; status: RunStatus; now: number; extra: { outcome?: RunOutcome; error?: string; nextAttemptAt?: number; lastStep?: StepRow } }
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

interface Reply {
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
    this.worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else w.reject(new Error(r.error));
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
      this.worker.postMessage({ id, w: op });
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
