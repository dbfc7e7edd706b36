// A writer thread that is restarted when it dies. While it is down, calls fail at once (the
// listener answers AR "system unavailable") and `up` is false (so /ready says not ready); it is
// restarted after a growing delay; when it died more than `maxRestarts` times within `windowMs`,
// `onFatal` is called: the process should exit non-zero and let its supervisor start it afresh.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.ts';
import { startThread, type ThreadStart } from './thread-bootstrap.ts';
import { ThreadChannel, type Protocol } from './thread-channel.ts';

export interface RestartPolicy {
  /** First restart delay; each further restart within the window doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** More deaths than this within windowMs is fatal. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 100, maxDelayMs: 5_000, maxRestarts: 5, windowMs: 60_000 };

export interface SupervisedThreadOptions extends ThreadStart {
  /** Names the thread in logs and errors ("journal writer"). */
  name: string;
  gather?: boolean;
  unrefWhenIdle?: boolean;
  restart?: Partial<RestartPolicy>;
  log?: Logger;
  /** Called once when the restarts are exhausted. */
  onFatal?: (err: Error) => void;
}

export class ThreadUnavailableError extends Error {}

interface SupervisedThreadEvents {
  down: [Error];
  up: [];
  fatal: [Error];
}

export class SupervisedThread<P extends Protocol> extends EventEmitter<SupervisedThreadEvents> {
  private channel: ThreadChannel<P>;
  private isUp = false;
  /** Deaths count (and restart) only once the first start succeeded. */
  private supervising = false;
  private closing = false;
  private fatal: Error | null = null;
  private deaths: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly policy: RestartPolicy;
  /** Restarts done so far (tests, operations). */
  restarts = 0;

  private constructor(private readonly opts: SupervisedThreadOptions) {
    super();
    this.policy = { ...DEFAULT_RESTART_POLICY, ...opts.restart };
    this.channel = this.spawn();
  }

  /** Starts the thread; rejects when it cannot set itself up (a start-up error, not restarted). */
  static async start<P extends Protocol>(opts: SupervisedThreadOptions): Promise<SupervisedThread<P>> {
    const t = new SupervisedThread<P>(opts);
    try {
      await t.channel.ready;
    } catch (err) {
      t.closing = true;
      throw new Error(`${opts.name} thread failed to start: ${(err as Error).message}`);
    }
    t.isUp = t.supervising = true;
    return t;
  }

  /** Starts the thread without waiting for it (calls queue until it is set up). */
  static launch<P extends Protocol>(opts: SupervisedThreadOptions): SupervisedThread<P> {
    const t = new SupervisedThread<P>(opts);
    t.isUp = t.supervising = true;
    void t.channel.ready.catch(() => {});
    return t;
  }

  /** True while the thread runs; false from its death until a restart succeeded. */
  get up(): boolean {
    return this.isUp && !this.closing;
  }

  /** The running thread (tests terminate it to simulate a crash). */
  get worker() {
    return this.channel.worker;
  }

  call<K extends keyof P & string>(op: K, request: P[K]['request'], transfer?: ArrayBuffer[]): Promise<P[K]['response']> {
    if (!this.isUp) return Promise.reject(new ThreadUnavailableError(`${this.opts.name} thread is not running`));
    return this.channel.call(op, request, transfer);
  }

  private spawn(): ThreadChannel<P> {
    const channel = new ThreadChannel<P>(startThread(this.opts), { gather: this.opts.gather ?? false, unrefWhenIdle: this.opts.unrefWhenIdle ?? false });
    channel.worker.once('exit', () => this.died(channel));
    return channel;
  }

  private died(channel: ThreadChannel<P>): void {
    if (this.closing || !this.supervising || channel !== this.channel) return;
    const err = channel.failed ?? new Error('thread exited');
    const wasUp = this.isUp;
    this.isUp = false;
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < this.policy.windowMs);
    this.deaths.push(now);
    if (wasUp) this.emit('down', err);
    if (this.deaths.length > this.policy.maxRestarts) {
      const n = this.deaths.length;
      this.fatal = new Error(`${this.opts.name} thread died ${n} time${n === 1 ? '' : 's'} within ${this.policy.windowMs} ms; last: ${err.message}`);
      this.opts.log?.error({ thread: this.opts.name, err: err.message, deaths: this.deaths.length }, 'writer thread keeps dying; giving up');
      this.emit('fatal', this.fatal);
      this.opts.onFatal?.(this.fatal);
      return;
    }
    const delay = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (this.deaths.length - 1));
    this.opts.log?.error({ thread: this.opts.name, err: err.message, restartInMs: delay }, 'writer thread died; restarting');
    this.timer = setTimeout(() => this.restart(), delay);
    this.timer.unref();
  }

  private restart(): void {
    if (this.closing) return;
    this.restarts++;
    const channel = (this.channel = this.spawn());
    channel.ready.then(() => {
      if (this.closing || channel !== this.channel) return;
      this.isUp = true;
      this.opts.log?.info({ thread: this.opts.name, restarts: this.restarts }, 'writer thread restarted');
      this.emit('up');
    }, () => {}); // a thread that dies while starting is handled by died()
  }

  /** The error that made the supervisor give up, if it did. */
  get gaveUp(): Error | null {
    return this.fatal;
  }

  /** Stops supervising and ends the thread (after `last`, e.g. a request that closes its database). */
  async close(last?: () => Promise<unknown>): Promise<void> {
    if (last && this.isUp) {
      try {
        await last();
      } catch {
        // the thread ends below either way
      }
    }
    this.closing = true;
    clearTimeout(this.timer);
    await this.channel.worker.terminate();
  }
}
