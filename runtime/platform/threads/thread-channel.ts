// The typed request/response channel between the main thread and a writer thread. A protocol
// names each operation's request and response; requests travel as arrays of { id, op, ... } and
// replies as arrays of { id, ok, value | error }, so writes issued in the same turn can share one
// message (and, on the thread, one transaction). The thread says `ready` once it has set itself up.
import { parentPort, type Worker } from 'node:worker_threads';

/** Operation name → its request fields and its response. */
export type Protocol = Record<string, { request: object; response: unknown }>;

export type RequestOf<P extends Protocol> = { [K in keyof P & string]: { id: number; op: K } & P[K]['request'] }[keyof P & string];

export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };
type Reply = { id: number } & Outcome;
const READY = 'ready';

/** The main thread's end. */
export class ThreadChannel<P extends Protocol> {
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private outbox: RequestOf<P>[] = [];
  private transfer: ArrayBuffer[] = [];
  private posting = false;
  private failure: Error | null = null;
  /** Resolves once the thread is set up; rejects if it dies first. */
  readonly ready: Promise<void>;

  constructor(
    readonly worker: Worker,
    private readonly opts: {
      /** Requests of one event-loop turn travel as one message (setImmediate). */
      gather?: boolean;
      /** The thread keeps the process alive only while requests are pending. */
      unrefWhenIdle?: boolean;
    } = {},
  ) {
    if (opts.unrefWhenIdle) worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: Reply[] | typeof READY) => {
        if (msg === READY) return resolve();
        for (const r of msg) {
          const w = this.waiting.get(r.id);
          if (!w) continue;
          this.waiting.delete(r.id);
          if (r.ok) w.resolve(r.value);
          else w.reject(new Error(r.error));
        }
        if (this.opts.unrefWhenIdle && this.waiting.size === 0) this.worker.unref();
      });
      const fail = (err: Error) => {
        this.failure ??= err;
        reject(this.failure);
        for (const w of this.waiting.values()) w.reject(this.failure);
        this.waiting.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`thread exited (code ${code})`)));
    });
    this.ready.catch(() => {});
  }

  /** The error that ended the thread, or null while it runs. */
  get failed(): Error | null {
    return this.failure;
  }

  call<K extends keyof P & string>(op: K, request: P[K]['request'], transfer: ArrayBuffer[] = []): Promise<P[K]['response']> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.opts.unrefWhenIdle) this.worker.ref();
      const message = { ...request, id, op } as RequestOf<P>;
      if (!this.opts.gather) return this.worker.postMessage([message], transfer);
      this.outbox.push(message);
      this.transfer.push(...transfer);
      if (!this.posting) {
        this.posting = true;
        setImmediate(this.post);
      }
    });
  }

  private readonly post = () => {
    this.posting = false;
    const batch = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    if (this.failure) return; // the pending calls were rejected already
    this.worker.postMessage(batch, transfer);
  };
}

/**
 * The thread's end: `handle` answers the requests that arrived together, one outcome each in
 * order (it may apply them in one transaction). Call once the thread is set up.
 */
export function serveChannel<P extends Protocol>(handle: (requests: RequestOf<P>[]) => Outcome[]): void {
  const port = parentPort!;
  let queue: RequestOf<P>[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const requests = queue;
    queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = handle(requests);
    } catch (err) {
      outcomes = requests.map(() => ({ ok: false, error: (err as Error).message }));
    }
    port.postMessage(requests.map((r, i) => ({ id: r.id, ...outcomes[i]! }) satisfies Reply));
  };
  port.on('message', (requests: RequestOf<P>[]) => {
    queue.push(...requests);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  port.postMessage(READY);
}

/** An outcome from a function that may throw. */
export function outcomeOf(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() ?? null };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
