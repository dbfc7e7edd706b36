// "Silent for longer than usual": each sender's usual gap between messages, read from the minute
// rollups of the last week, not from the journal. The gaps are those between consecutive minutes
// with traffic (a burst of a hundred messages in one minute is one arrival), and the usual gap is
// their 90th percentile, so a sender's regular pauses count as usual and a rare long one does not.
// A sender is flagged once its silence exceeds three usual gaps, and never sooner than FLOOR_MS;
// one with too few arrivals to know its rhythm is not flagged. The gaps change slowly, so they are
// computed again at most every REFRESH_MS.
import { MINUTE, type Rollups } from './rollups.ts';

export const LOOKBACK_MS = 7 * 86_400_000;
export const FLOOR_MS = 5 * MINUTE;
export const FACTOR = 3;
/** Arrivals (minutes with traffic) needed before a sender's rhythm is known. */
export const MIN_ARRIVALS = 5;
const REFRESH_MS = 5 * MINUTE;

/** The usual gap (ms) of a sender from its minutes with traffic in ascending order; undefined with too few. */
export function usualGap(minutes: readonly number[]): number | undefined {
  if (minutes.length < MIN_ARRIVALS) return undefined;
  const gaps: number[] = [];
  for (let i = 1; i < minutes.length; i++) gaps.push(minutes[i]! - minutes[i - 1]!);
  gaps.sort((a, b) => a - b);
  return gaps[Math.min(gaps.length - 1, Math.ceil(0.9 * gaps.length) - 1)];
}

/** Whether a sender last heard at `lastAt` is silent for longer than its usual gap allows at `now`. */
export function silentTooLong(lastAt: number | null, gapMs: number | undefined, now: number): boolean {
  if (lastAt === null || gapMs === undefined) return false;
  return now - lastAt > Math.max(FLOOR_MS, FACTOR * gapMs);
}

export class SenderRhythm {
  private gaps = new Map<string, number>();
  private computedAt = -Infinity;

  constructor(private readonly rollups: Rollups) {}

  /** Each sender's usual gap (ms), for senders with enough arrivals in the last week. */
  async usualGaps(now = Date.now()): Promise<ReadonlyMap<string, number>> {
    if (now - this.computedAt < REFRESH_MS && now >= this.computedAt) return this.gaps;
    const bySender = new Map<string, number[]>();
    for (const { minute, sender } of await this.rollups.activeMinutes(now - LOOKBACK_MS, now)) {
      let list = bySender.get(sender);
      if (!list) bySender.set(sender, (list = []));
      list.push(minute);
    }
    const gaps = new Map<string, number>();
    for (const [sender, minutes] of bySender) {
      const g = usualGap(minutes);
      if (g !== undefined) gaps.set(sender, g);
    }
    this.gaps = gaps;
    this.computedAt = now;
    return gaps;
  }
}
