// Per-minute rollups kept while the runtime runs: each answered message, each settled workflow
// run and each ended SMART launch adds to an in-memory minute cell (a Map lookup, nothing else on the message path); a timer
// adds the cells to SQLite once a second in one transaction. Charts and the overview read these
// tables, never the journal, so a 30-day range costs what a 1-hour one does. Readers flush first,
// so what they see includes the last second.
import type { Database, Statement } from 'better-sqlite3';
import { BUCKET_COUNT, bucketIndex, quantile } from './latency-buckets.ts';
import { bucketColumns } from './monitoring-schema.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
/** Longer ranges read the hourly rollups (aligned to the hour) instead of the minutes. */
const HOURLY_ABOVE_MS = 6 * HOUR;
type MessageTable = 'monitoring_message_minutes' | 'monitoring_message_hours';
/** The sender of messages no sender declaration matched. */
export const UNMATCHED = '(unmatched)';

interface MessageCell {
  minute: number;
  sender: string;
  type: string;
  ack: string;
  count: number;
  latencySum: number;
  buckets: number[];
}

interface RunCell {
  minute: number;
  workflow: string;
  status: string;
  count: number;
}

interface LaunchCell {
  minute: number;
  launch: string;
  outcome: string;
  count: number;
}

export interface MessageTotals {
  sender: string;
  messageType: string;
  ackCode: string;
  count: number;
  latencySumMs: number;
  buckets: number[];
}

export interface SenderSummary {
  sender: string;
  messageType: string;
  count: number;
  ackCodes: Record<string, number>;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface SeriesPoint {
  minute: number;
  sender: string;
  count: number;
}

export interface AckPoint {
  minute: number;
  ackCode: string;
  count: number;
}

export class Rollups {
  private messages = new Map<string, MessageCell>();
  private runs = new Map<string, RunCell>();
  private launches = new Map<string, LaunchCell>();
  private lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly addMessage: Record<MessageTable, Statement>;
  private readonly addRun: Statement;
  private readonly addLaunch: Statement;
  private readonly touchSender: Statement;
  private readonly write: (m: MessageCell[], r: RunCell[], l: LaunchCell[], s: Array<[string, number]>) => void;
  /** Called after each flush that wrote something (live updates). */
  onFlush: (() => void) | undefined;

  constructor(private readonly db: Database) {
    const add = (table: MessageTable) => db.prepare(`INSERT INTO ${table} (minute, sender, message_type, ack_code, count, latency_sum, ${bucketColumns.join(', ')})
      VALUES (?, ?, ?, ?, ?, ?, ${bucketColumns.map(() => '?').join(', ')})
      ON CONFLICT (minute, sender, message_type, ack_code) DO UPDATE SET count = count + excluded.count, latency_sum = latency_sum + excluded.latency_sum,
      ${bucketColumns.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`);
    this.addMessage = { monitoring_message_minutes: add('monitoring_message_minutes'), monitoring_message_hours: add('monitoring_message_hours') };
    this.addRun = db.prepare(`INSERT INTO monitoring_run_minutes (minute, workflow, status, count) VALUES (?, ?, ?, ?)
      ON CONFLICT (minute, workflow, status) DO UPDATE SET count = count + excluded.count`);
    this.addLaunch = db.prepare(`INSERT INTO monitoring_launch_minutes (minute, launch, outcome, count) VALUES (?, ?, ?, ?)
      ON CONFLICT (minute, launch, outcome) DO UPDATE SET count = count + excluded.count`);
    this.touchSender = db.prepare(`INSERT INTO monitoring_senders (sender, last_message_at) VALUES (?, ?)
      ON CONFLICT (sender) DO UPDATE SET last_message_at = MAX(last_message_at, excluded.last_message_at)`);
    this.write = db.transaction((m: MessageCell[], r: RunCell[], l: LaunchCell[], s: Array<[string, number]>) => {
      for (const c of m) this.addMessage.monitoring_message_minutes.run(c.minute, c.sender, c.type, c.ack, c.count, c.latencySum, ...c.buckets);
      for (const c of hourly(m)) this.addMessage.monitoring_message_hours.run(c.minute, c.sender, c.type, c.ack, c.count, c.latencySum, ...c.buckets);
      for (const c of r) this.addRun.run(c.minute, c.workflow, c.status, c.count);
      for (const c of l) this.addLaunch.run(c.minute, c.launch, c.outcome, c.count);
      for (const [sender, at] of s) this.touchSender.run(sender, at);
    });
  }

  /** Flushes once a second (the timer does not keep the process alive). */
  start(intervalMs = 1000): this {
    this.timer ??= setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
    return this;
  }

  countMessage(sender: string | null, type: string, ack: string, at: number, latencyMs: number): void {
    const s = sender ?? UNMATCHED;
    const minute = at - (at % MINUTE);
    const key = `${minute}\u0000${s}\u0000${type}\u0000${ack}`;
    let cell = this.messages.get(key);
    if (!cell) this.messages.set(key, (cell = { minute, sender: s, type, ack, count: 0, latencySum: 0, buckets: new Array<number>(BUCKET_COUNT).fill(0) }));
    cell.count++;
    cell.latencySum += latencyMs;
    cell.buckets[bucketIndex(latencyMs)]!++;
    if ((this.lastSeen.get(s) ?? 0) < at) this.lastSeen.set(s, at);
  }

  countRun(workflow: string, status: string, at: number): void {
    const minute = at - (at % MINUTE);
    const key = `${minute}\u0000${workflow}\u0000${status}`;
    let cell = this.runs.get(key);
    if (!cell) this.runs.set(key, (cell = { minute, workflow, status, count: 0 }));
    cell.count++;
  }

  countLaunch(launch: string, outcome: string, at: number): void {
    const minute = at - (at % MINUTE);
    const key = `${minute}\u0000${launch}\u0000${outcome}`;
    let cell = this.launches.get(key);
    if (!cell) this.launches.set(key, (cell = { minute, launch, outcome, count: 0 }));
    cell.count++;
  }

  /** Adds what was counted since the last flush to the tables. */
  flush(): void {
    if (!this.messages.size && !this.runs.size && !this.launches.size) return;
    const m = [...this.messages.values()];
    const r = [...this.runs.values()];
    const l = [...this.launches.values()];
    const s = [...this.lastSeen];
    this.messages = new Map();
    this.runs = new Map();
    this.launches = new Map();
    this.lastSeen = new Map();
    this.write(m, r, l, s);
    this.onFlush?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Deletes rollups of minutes before `before`; the rows removed. */
  purge(before: number): number {
    this.flush();
    const a = this.db.prepare('DELETE FROM monitoring_message_minutes WHERE minute < ?').run(before).changes;
    this.db.prepare('DELETE FROM monitoring_message_hours WHERE minute < ?').run(before - (before % HOUR));
    const b = this.db.prepare('DELETE FROM monitoring_run_minutes WHERE minute < ?').run(before).changes;
    const c = this.db.prepare('DELETE FROM monitoring_launch_minutes WHERE minute < ?').run(before).changes;
    return a + b + c;
  }

  /** Message counts per sender, type and ACK code over [from, to). */
  messageTotals(from: number, to: number): MessageTotals[] {
    this.flush();
    const rows = this.db.prepare(`SELECT sender, message_type, ack_code, SUM(count) AS count, SUM(latency_sum) AS latency_sum,
        ${bucketColumns.map((c) => `SUM(${c}) AS ${c}`).join(', ')}
      FROM ${tableFor(from, to)} WHERE minute >= ? AND minute < ? GROUP BY sender, message_type, ack_code ORDER BY sender, message_type, ack_code`)
      .all(align(from, to), to) as Array<Record<string, number | string>>;
    return rows.map((r) => ({
      sender: r.sender as string, messageType: r.message_type as string, ackCode: r.ack_code as string,
      count: r.count as number, latencySumMs: r.latency_sum as number, buckets: bucketColumns.map((c) => r[c] as number),
    }));
  }

  /** Per sender and message type: counts, ACK codes and latency percentiles (ms). */
  senderSummaries(from: number, to: number): SenderSummary[] {
    const byKey = new Map<string, { sender: string; messageType: string; count: number; ackCodes: Record<string, number>; buckets: number[] }>();
    for (const t of this.messageTotals(from, to)) {
      const key = `${t.sender}\u0000${t.messageType}`;
      let s = byKey.get(key);
      if (!s) byKey.set(key, (s = { sender: t.sender, messageType: t.messageType, count: 0, ackCodes: {}, buckets: new Array<number>(BUCKET_COUNT).fill(0) }));
      s.count += t.count;
      s.ackCodes[t.ackCode] = (s.ackCodes[t.ackCode] ?? 0) + t.count;
      t.buckets.forEach((n, i) => (s.buckets[i]! += n));
    }
    return [...byKey.values()].map((s) => ({
      sender: s.sender, messageType: s.messageType, count: s.count, ackCodes: s.ackCodes,
      p50: quantile(0.5, s.buckets), p95: quantile(0.95, s.buckets), p99: quantile(0.99, s.buckets),
    }));
  }

  /** Messages per sender per step (minutes) over [from, to). */
  series(from: number, to: number, stepMinutes = 1): SeriesPoint[] {
    this.flush();
    const step = stepMinutes * MINUTE;
    return this.db.prepare(`SELECT (minute / ?) * ? AS minute, sender, SUM(count) AS count FROM ${tableFor(from, to, stepMinutes)}
      WHERE minute >= ? AND minute < ? GROUP BY 1, sender ORDER BY 1`).all(step, step, align(from, to, stepMinutes), to) as SeriesPoint[];
  }

  /** Messages per ACK code per step (minutes) over [from, to). */
  ackSeries(from: number, to: number, stepMinutes = 1): AckPoint[] {
    this.flush();
    const step = stepMinutes * MINUTE;
    return (this.db.prepare(`SELECT (minute / ?) * ? AS minute, ack_code, SUM(count) AS count FROM ${tableFor(from, to, stepMinutes)}
      WHERE minute >= ? AND minute < ? GROUP BY 1, ack_code ORDER BY 1`).all(step, step, align(from, to, stepMinutes), to) as Array<{ minute: number; ack_code: string; count: number }>)
      .map((r) => ({ minute: r.minute, ackCode: r.ack_code, count: r.count }));
  }

  /** The rollup rows over [from, to) as stored (per minute, or per hour for long ranges), oldest first. */
  rows(from: number, to: number): Array<{ minute: number; sender: string; messageType: string; ackCode: string; count: number; latencySumMs: number }> {
    this.flush();
    return (this.db.prepare(`SELECT minute, sender, message_type, ack_code, count, latency_sum FROM ${tableFor(from, to)}
      WHERE minute >= ? AND minute < ? ORDER BY minute, sender, message_type, ack_code`).all(align(from, to), to) as Array<{
        minute: number; sender: string; message_type: string; ack_code: string; count: number; latency_sum: number;
      }>).map((r) => ({ minute: r.minute, sender: r.sender, messageType: r.message_type, ackCode: r.ack_code, count: r.count, latencySumMs: r.latency_sum }));
  }

  /** Settled workflow runs per workflow and status over [from, to). */
  runTotals(from: number, to: number): Array<{ workflow: string; status: string; count: number }> {
    this.flush();
    return this.db.prepare(`SELECT workflow, status, SUM(count) AS count FROM monitoring_run_minutes
      WHERE minute >= ? AND minute < ? GROUP BY workflow, status ORDER BY workflow, status`).all(from - (from % MINUTE), to) as Array<{ workflow: string; status: string; count: number }>;
  }

  /** The minutes with traffic over [from, to) per sender, oldest first (the table's own order: no sort). */
  activeMinutes(from: number, to: number): Iterable<{ minute: number; sender: string }> {
    this.flush();
    return this.db.prepare(`SELECT minute, sender FROM monitoring_message_minutes WHERE minute >= ? AND minute < ? GROUP BY minute, sender`)
      .iterate(from - (from % MINUTE), to) as Iterable<{ minute: number; sender: string }>;
  }

  /** SMART launches per launch and outcome over [from, to). */
  launchTotals(from: number, to: number): Array<{ launch: string; outcome: string; count: number }> {
    this.flush();
    return this.db.prepare(`SELECT launch, outcome, SUM(count) AS count FROM monitoring_launch_minutes
      WHERE minute >= ? AND minute < ? GROUP BY launch, outcome ORDER BY launch, outcome`).all(from - (from % MINUTE), to) as Array<{ launch: string; outcome: string; count: number }>;
  }

  /** Each sender's last message time. */
  lastMessages(): Map<string, number> {
    this.flush();
    const rows = this.db.prepare('SELECT sender, last_message_at FROM monitoring_senders').all() as Array<{ sender: string; last_message_at: number }>;
    return new Map(rows.map((r) => [r.sender, r.last_message_at]));
  }
}

/** Series: the hourly table for hour-wide steps. Totals: for long ranges. Else the minutes. */
function tableFor(from: number, to: number, stepMinutes?: number): MessageTable {
  const hourly = stepMinutes !== undefined ? stepMinutes >= 60 : to - from > HOURLY_ABOVE_MS;
  return hourly ? 'monitoring_message_hours' : 'monitoring_message_minutes';
}

/** The range's start aligned to the table's buckets. */
function align(from: number, to: number, stepMinutes?: number): number {
  return tableFor(from, to, stepMinutes) === 'monitoring_message_hours' ? from - (from % HOUR) : from - (from % MINUTE);
}

/** Minute cells summed into hour cells. */
function hourly(cells: MessageCell[]): MessageCell[] {
  const out = new Map<string, MessageCell>();
  for (const c of cells) {
    const hour = c.minute - (c.minute % HOUR);
    const key = `${hour}\u0000${c.sender}\u0000${c.type}\u0000${c.ack}`;
    const h = out.get(key);
    if (!h) out.set(key, { ...c, minute: hour, buckets: [...c.buckets] });
    else {
      h.count += c.count;
      h.latencySum += c.latencySum;
      c.buckets.forEach((n, i) => (h.buckets[i]! += n));
    }
  }
  return [...out.values()];
}
