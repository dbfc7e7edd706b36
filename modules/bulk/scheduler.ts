// Starts exports on their block's `schedule` (cron in UTC, or every DURATION) by requesting them
// like `hdc bulk start` does. A time missed while no runtime ran is not made up: the next one is.
import type { BulkExportSpec } from './bulk-plan.ts';
import { nextCron } from './cron.ts';

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly specs: BulkExportSpec[], private readonly request: (name: string) => void, private readonly now: () => number = Date.now) {}

  start(): void {
    for (const spec of this.specs) if (spec.schedule) this.arm(spec);
  }

  private arm(spec: BulkExportSpec): void {
    const s = spec.schedule!;
    const at = 'everyMs' in s ? this.now() + s.everyMs : nextCron(s.cron, this.now());
    // setTimeout holds at most ~24.8 days; a longer wait re-arms on the way.
    const wait = Math.min(at - this.now(), 2 ** 31 - 1);
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.now() >= at - 1000) this.request(spec.name);
      this.arm(spec);
    }, Math.max(0, wait));
    t.unref();
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
