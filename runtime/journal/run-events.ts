// In-process notifications between the listener and the workflow engine.
// - 'enqueued': the listener committed new workflow runs; the engine wakes up.
// - 'retrying': a run's attempt failed and the next one is due at nextAttemptAt.
// - 'finished': the engine settled a run; the listener answers `ack after_workflow` senders.
//
// Waiting for a run's outcome (waitForFinished) is a promise to put that outcome in an ACK. The
// engine claims the waiter before it records a rejection: a claimed wait no longer times out, so
// the outcome reaches the partner; a rejection nobody waits for went out as a positive ACK and
// becomes a dead letter instead (see engine.ts).
import { EventEmitter } from 'node:events';
import type { RunOutcome, RunStatus } from './journal-schema.ts';

export interface EnqueuedEvent {
  runIds: number[];
  messageId: number;
  sender: string;
}

export interface RetryingEvent {
  runId: number;
  attempt: number;
  nextAttemptAt: number;
}

export interface FinishedEvent {
  runId: number;
  /** The run's workflow (counted in the traffic line). */
  workflow?: string;
  status: Exclude<RunStatus, 'queued' | 'running'>;
  outcome?: RunOutcome;
  /** Why a run is a dead letter, when it is one for a reason of its own (e.g. rejected after acknowledgement). */
  reason?: string;
}

interface RunEventMap {
  enqueued: [EnqueuedEvent];
  retrying: [RetryingEvent];
  finished: [FinishedEvent];
}

interface Waiter {
  deadline: number;
  timer: NodeJS.Timeout;
  claimed: boolean;
  resolve: (e: FinishedEvent | null) => void;
}

/** How long a claimed wait holds on for the engine's write before giving up (a failed write). */
const CLAIM_GRACE_MS = 30_000;

export class RunEvents extends EventEmitter<RunEventMap> {
  private readonly waiters = new Map<number, Set<Waiter>>();
  /** Runs that finished recently: the engine may settle a run before its listener starts waiting. */
  private readonly recent = new Map<number, FinishedEvent>();
  /** Runs whose last attempt failed, with their next try: the same race, for early answers. */
  private readonly retries = new Map<number, RetryingEvent>();

  constructor() {
    super();
    this.setMaxListeners(0);
    this.on('finished', (e) => {
      this.retries.delete(e.runId);
      remember(this.recent, e.runId, e);
      const set = this.waiters.get(e.runId);
      if (!set) return;
      this.waiters.delete(e.runId);
      for (const w of set) this.end(w, e);
    });
    this.on('retrying', (e) => {
      remember(this.retries, e.runId, e);
      const set = this.waiters.get(e.runId);
      if (!set) return;
      for (const w of set) if (!w.claimed && e.nextAttemptAt > w.deadline) this.drop(e.runId, w);
    });
  }

  /**
   * Resolves with the run's finished event, or null when timeoutMs passes first — or at once when
   * the run's next attempt is due after that: waiting longer could not get its outcome.
   */
  waitForFinished(runId: number, timeoutMs: number): Promise<FinishedEvent | null> {
    const done = this.recent.get(runId);
    if (done) return Promise.resolve(done);
    const deadline = Date.now() + timeoutMs;
    const retry = this.retries.get(runId);
    if (retry && retry.nextAttemptAt > deadline) return Promise.resolve(null);
    return new Promise((resolve) => {
      let set = this.waiters.get(runId);
      if (!set) this.waiters.set(runId, (set = new Set()));
      const w: Waiter = { deadline, claimed: false, resolve, timer: setTimeout(() => this.drop(runId, w), timeoutMs) };
      set.add(w);
    });
  }

  /**
   * Called by the engine before it records a run's outcome: true when someone waits for it, and
   * from now on that wait does not time out (the outcome will be delivered with 'finished').
   */
  claim(runId: number): boolean {
    const set = this.waiters.get(runId);
    if (!set?.size) return false;
    for (const w of set) {
      if (w.claimed) continue;
      w.claimed = true;
      clearTimeout(w.timer);
      w.timer = setTimeout(() => this.drop(runId, w), CLAIM_GRACE_MS);
    }
    return true;
  }

  private drop(runId: number, w: Waiter): void {
    const set = this.waiters.get(runId);
    set?.delete(w);
    if (set?.size === 0) this.waiters.delete(runId);
    this.end(w, null);
  }

  private end(w: Waiter, e: FinishedEvent | null): void {
    clearTimeout(w.timer);
    w.resolve(e);
  }
}

function remember<T>(map: Map<number, T>, key: number, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > 10_000) map.delete(map.keys().next().value!);
}

/** The process-wide instance the engine and the listener share. */
export const runEvents = new RunEvents();
