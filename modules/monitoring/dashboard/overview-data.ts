// What the overview shows, computed from the rollups (never the journal, except the current
// dead-letter count, an indexed count): per sender and message type the counts, ACK codes and
// latency percentiles; messages per minute per sender and per ACK code for the chart; workflow
// runs by status; SMART launches by outcome (plans with launches); each sender's last message and
// whether it has been silent for longer than usual (sender-rhythm.ts); for plans with `bulk`
// blocks, each block's recent exports as the bulk module announced them (bulk-exports.ts).
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';
import { MINUTE, type Rollups, type SenderSummary } from '../rollups.ts';
import { silentTooLong, type SenderRhythm } from '../sender-rhythm.ts';
import { deadLetterCount } from './message-search.ts';
import type { BulkExports, ExportSummary } from '../bulk-exports.ts';

export interface OverviewSources {
  rollups: Rollups;
  /** The journal and runs (the dead-letter count): the cluster's with a PostgreSQL store. */
  sql: SharedSql;
  declaredSenders: readonly string[];
  rhythm: SenderRhythm;
  /** Whether the plan has `smart launch` blocks: the launches panel is shown only then. */
  launches: boolean;
  /** Plans with `bulk` blocks: their exports, and the blocks' names (the Exports panel is shown only then). */
  exports?: BulkExports;
  bulkBlocks?: readonly string[];
}

export const RANGES = { '1h': { ms: 3_600_000, step: 1 }, '24h': { ms: 86_400_000, step: 5 }, '30d': { ms: 30 * 86_400_000, step: 60 } } as const;
export type RangeName = keyof typeof RANGES;

export function rangeOf(v: unknown): RangeName {
  return typeof v === 'string' && v in RANGES ? (v as RangeName) : '1h';
}

export interface SenderStatus {
  sender: string;
  lastMessageAt: number | null;
  /** Its usual gap between messages (ms), when it has sent enough to know. */
  usualGapMs: number | null;
  /** No message for longer than three usual gaps (and at least five minutes). */
  silent: boolean;
}

export interface OverviewData {
  range: RangeName;
  from: number;
  to: number;
  stepMinutes: number;
  messages: number;
  summaries: SenderSummary[];
  senders: SenderStatus[];
  /** x: step starts in seconds (uPlot's unit); one column per sender / ACK code. */
  series: { x: number[]; bySender: Record<string, number[]>; byAck: Record<string, number[]> };
  runs: Array<{ workflow: string; status: string; count: number }>;
  deadLetters: number;
  /** SMART launches by launch and outcome; absent when the plan has no launches. */
  launches?: Array<{ launch: string; outcome: string; count: number }>;
  /** Each bulk block's recent exports, newest first (whatever the range); absent when the plan has no bulk blocks. */
  exports?: ExportSummary[];
}

export async function overviewData(sources: OverviewSources, range: RangeName, now = Date.now()): Promise<OverviewData> {
  const { rollups, sql, declaredSenders } = sources;
  const { ms, step } = RANGES[range];
  const stepMs = step * MINUTE;
  const to = now - (now % MINUTE) + MINUTE;
  const from = to - ms;
  const summaries = await rollups.senderSummaries(from, to);
  const x: number[] = [];
  const first = from - (from % stepMs);
  for (let t = first; t < to; t += stepMs) x.push(t / 1000);
  const index = new Map(x.map((t, i) => [t * 1000, i]));
  const bySender: Record<string, number[]> = {};
  for (const p of await rollups.series(from, to, step)) {
    const col = (bySender[p.sender] ??= new Array<number>(x.length).fill(0));
    const i = index.get(p.minute);
    if (i !== undefined) col[i]! += p.count;
  }
  const byAck: Record<string, number[]> = {};
  for (const p of await rollups.ackSeries(from, to, step)) {
    const col = (byAck[p.ackCode] ??= new Array<number>(x.length).fill(0));
    const i = index.get(p.minute);
    if (i !== undefined) col[i]! += p.count;
  }
  const last = await rollups.lastMessages();
  const counts = new Map<string, number>();
  for (const s of summaries) counts.set(s.sender, (counts.get(s.sender) ?? 0) + s.count);
  const names = [...new Set([...declaredSenders, ...counts.keys()])].sort();
  const gaps = await sources.rhythm.usualGaps(now);
  const senders = names.map((sender) => {
    const at = last.get(sender) ?? null;
    const gap = gaps.get(sender);
    return { sender, lastMessageAt: at, usualGapMs: gap ?? null, silent: silentTooLong(at, gap, now) };
  });
  const deadLetters = await deadLetterCount(sql);
  return {
    range, from, to, stepMinutes: step,
    messages: summaries.reduce((a, s) => a + s.count, 0),
    summaries, senders, series: { x, bySender, byAck }, runs: await rollups.runTotals(from, to), deadLetters,
    ...(sources.launches ? { launches: await rollups.launchTotals(from, to) } : {}),
    ...(sources.exports && sources.bulkBlocks ? { exports: await sources.exports.recent(sources.bulkBlocks) } : {}),
  };
}
