// Debounces project checks and cancels stale ones: every edit restarts the project's timer, and a
// check that is still running when a newer edit arrives is told so through its token and publishes
// nothing. Typing therefore costs no compile per keystroke and never shows an outdated result.

export interface CheckToken {
  readonly cancelled: boolean;
}

export type CheckFn = (project: string, token: CheckToken) => Promise<void> | void;

interface Pending {
  timer?: NodeJS.Timeout;
  generation: number;
}

export class CheckScheduler {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly check: CheckFn,
    public delayMs: number,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  /** Schedules a check of the project after the quiet period; any earlier pending or running check becomes stale. */
  schedule(project: string, delayMs = this.delayMs): void {
    const p = this.pending.get(project) ?? { generation: 0 };
    this.pending.set(project, p);
    p.generation++;
    clearTimeout(p.timer);
    const generation = p.generation;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      const token: CheckToken = { get cancelled() { return p.generation !== generation; } };
      Promise.resolve()
        .then(() => this.check(project, token))
        .catch(this.onError);
    }, delayMs);
  }

  /** True while a check for the project waits for its quiet period. */
  isPending(project: string): boolean {
    return this.pending.get(project)?.timer !== undefined;
  }

  dispose(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.generation++;
    }
    this.pending.clear();
  }
}
