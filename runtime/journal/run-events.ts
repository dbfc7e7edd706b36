// In-process notifications between the listener and the workflow engine.
// - 'enqueued': the listener committed new workflow runs; the engine wakes up.
// - 'finished': the engine settled a run; the listener answers `ack after_workflow` senders.
import { EventEmitter } from 'node:events';
import type { RunOutcome, RunStatus } from '../store/journal-schema.ts';

export interface EnqueuedEvent {
  runIds: number[];
  messageId: number;
  sender: string;
}

export interface FinishedEvent {
  runId: number;
  /** The run's workflow (counted in the traffic line). */
  workflow?: string;
  status: Exclude<RunStatus, 'queued' | 'running'>;
  outcome?: RunOutcome;
}

interface RunEventMap {
  enqueued: [EnqueuedEvent];
  finished: [FinishedEvent];
}

export class RunEvents extends EventEmitter<RunEventMap> {
  private readonly waiters = new Map<number, Set<(e: FinishedEvent) => void>>();
  /** Runs that finished recently: the engine may settle a run before its listener starts waiting. */
  private readonly recent = new Map<number, FinishedEvent>();
  private static readonly RECENT_LIMIT = 10_000;

  constructor() {
    super();
    this.setMaxListeners(0);
    this.on('finished', (e) => {
      this.recent.set(e.runId, e);
      if (this.recent.size > RunEvents.RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
      const set = this.waiters.get(e.runId);
      if (!set) return;
      this.waiters.delete(e.runId);
      for (const f of set) f(e);
    });
  }

  /** Resolves with the run's finished event, or null after timeoutMs. */
  waitForFinished(runId: number, timeoutMs: number): Promise<FinishedEvent | null> {
    const done = this.recent.get(runId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      let set = this.waiters.get(runId);
      if (!set) this.waiters.set(runId, (set = new Set()));
      const onFinished = (e: FinishedEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        set!.delete(onFinished);
        if (set!.size === 0) this.waiters.delete(runId);
        resolve(null);
      }, timeoutMs);
      set.add(onFinished);
    });
  }
}

/** The process-wide instance the engine and the listener share. */
export const runEvents = new RunEvents();
