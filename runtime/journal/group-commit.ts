// Group commit: journal writes from concurrent requests are gathered while the previous
// transaction is being committed and go to disk together, so synchronous=FULL costs one fsync
// per batch instead of one per message. The writer runs in a worker thread by default, so the
// event loop keeps parsing and answering while SQLite waits for the disk; the thread is
// supervised (restarted when it dies, see supervised-thread.ts).
import type { JournalEntry, JournalResult } from './journal-writer.ts';
import { JournalWriter } from './journal-writer.ts';
import { packBatch, unpackResults, type JournalProtocol } from './journal-protocol.ts';
import { openDatabase } from './open-database.ts';
import { SupervisedThread, type RestartPolicy } from '../platform/threads/supervised-thread.ts';
import type { Logger } from '../platform/log/logger.ts';
import { JournalCommits } from '../store/journal-commits.ts';
import { takeBatch, type JournalWaiter as Waiter } from '../store/journal-store.ts';

/** What the journal asks of its backend; a batch carries whole entries (packed for the thread). */
type Request =
  | { op: 'batch'; entries: JournalEntry[] }
  | { op: 'ack'; messageId: number; ack: string; status: string }
  | { op: 'purge'; cutoff: number }
  | { op: 'close' };

interface Backend {
  call(req: Request): Promise<unknown>;
  /** False while the writer thread is down. */
  readonly up: boolean;
  /** The writer thread, when there is one. */
  readonly thread?: SupervisedThread<JournalProtocol>;
  terminate(): Promise<void>;
}

export type JournalThread = 'worker' | 'inline';

export interface JournalOptions {
  /** SQLite file; it must already be migrated (openDatabase does it). */
  file: string;
  thread?: JournalThread;
  /** Most entries in one transaction. */
  maxBatch?: number;
  /** How the writer thread is restarted when it dies. */
  restart?: Partial<RestartPolicy>;
  log?: Logger;
  /** The writer thread kept dying: the process should exit non-zero. */
  onFatal?: (err: Error) => void;
}

function inlineBackend(file: string): Backend {
  const db = openDatabase(file, { migrate: false });
  const writer = new JournalWriter(db);
  return {
    up: true,
    async call(req) {
      switch (req.op) {
        case 'batch': return writer.writeBatch(req.entries);
        case 'ack': return writer.updateAck(req.messageId, req.ack, req.status);
        case 'purge': return writer.purgeContent(req.cutoff);
        case 'close': db.close(); return null;
      }
    },
    async terminate() {
      if (db.open) db.close();
    },
  };
}

async function workerBackend(opts: JournalOptions): Promise<Backend> {
  const thread = await SupervisedThread.start<JournalProtocol>({
    name: 'journal writer',
    module: './journal-worker',
    from: import.meta.url,
    workerData: { file: opts.file },
    ...(opts.restart ? { restart: opts.restart } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.onFatal ? { onFatal: opts.onFatal } : {}),
  });
  return {
    thread,
    get up() {
      return thread.up;
    },
    async call(req) {
      switch (req.op) {
        case 'batch': {
          const { fields, bytes } = packBatch(req.entries);
          return unpackResults(await thread.call('batch', { fields, bytes }, [bytes]));
        }
        case 'ack': return thread.call('ack', { messageId: req.messageId, ack: req.ack, status: req.status });
        case 'purge': return thread.call('purge', { cutoff: req.cutoff });
        case 'close': return thread.close(() => thread.call('close', {}));
      }
    },
    async terminate() {
      await thread.close();
    },
  };
}


export class Journal {
  private readonly queue: Waiter[] = [];
  private inFlight = false;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];
  /** Counters for tests and benchmarks. */
  readonly stats = { batches: 0, entries: 0, largestBatch: 0 };
  readonly commits = new JournalCommits();

  private constructor(private readonly backend: Backend, private readonly maxBatch: number) {}

  static async open(opts: JournalOptions): Promise<Journal> {
    const backend = (opts.thread ?? 'worker') === 'worker' ? await workerBackend(opts) : inlineBackend(opts.file);
    return new Journal(backend, opts.maxBatch ?? 2000);
  }

  /** False while the writer thread is down (being restarted): /ready says not ready. */
  get healthy(): boolean {
    return this.backend.up;
  }

  /** The writer thread (tests terminate it to check supervision); undefined when inline. */
  get thread(): SupervisedThread<JournalProtocol> | undefined {
    return this.backend.thread;
  }

  /** Commits the entries (with every other pending entry) and resolves once they are durable. */
  record(entries: JournalEntry[]): Promise<JournalResult[]> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.schedule();
    });
  }

  updateAck(messageId: number, ack: string, status: string): Promise<void> {
    return this.backend.call({ op: 'ack', messageId, ack, status }) as Promise<void>;
  }

  purgeContent(cutoff: number): Promise<number> {
    return this.backend.call({ op: 'purge', cutoff }) as Promise<number>;
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate lets requests parsed in the same event-loop turn join this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const { taken, entries: all } = takeBatch(this.queue, this.maxBatch);
    try {
      const started = performance.now();
      const results = (await this.backend.call({ op: 'batch', entries: all })) as JournalResult[];
      this.commits.emit('commit', { entries: all.length, seconds: (performance.now() - started) / 1000 });
      this.stats.batches++;
      this.stats.entries += all.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, all.length);
      let i = 0;
      for (const w of taken) {
        w.resolve(results.slice(i, i + w.entries.length));
        i += w.entries.length;
      }
    } catch (err) {
      for (const w of taken) w.reject(err as Error);
    } finally {
      this.inFlight = false;
      if (this.queue.length) this.schedule();
      else for (const f of this.idle.splice(0)) f();
    }
  }

  /** Resolves when every recorded entry has been committed. */
  drain(): Promise<void> {
    if (!this.inFlight && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Finishes pending writes, then closes the writer's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    try {
      await this.backend.call({ op: 'close' });
    } finally {
      await this.backend.terminate();
    }
  }
}
