// Per-minute rollups kept while the runtime runs: each answered message, each settled workflow
// run and each ended SMART launch adds to an in-memory minute cell (a Map lookup, nothing else on
// the message path); a timer adds the cells to the shared tables once a second in one transaction,
// a multi-row upsert per table that adds to what is there, so the runtimes of a cluster add into the same rows.
// Charts and the overview read these tables, never the journal, so a 30-day range costs what a
// 1-hour one does. Readers flush first, so what they see includes this runtime's last second.
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
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

/** One table's pending upsert: its rows' values in key order (see `flush`). */
interface Write {
  table: string;
  rows: unknown[][];
}

/** Rows per statement: well under both databases' limits on parameters. */
const ROWS_PER_STATEMENT = 400;
/** Cells kept for a later flush while the database cannot be written; beyond, the oldest are dropped. */
const MAX_BACKLOG_ROWS = 100_000;

const UPSERTS: Record<string, { columns: string[]; key: string[]; set: (t: string) => string }> = {
  ...Object.fromEntries((['monitoring_message_minutes', 'monitoring_message_hours'] as const).map((t) => [t, {
    columns: ['minute', 'sender', 'message_type', 'ack_code', 'count', 'latency_sum', ...bucketColumns],
    key: ['minute', 'sender', 'message_type', 'ack_code'],
    set: (x: string) => ['count', 'latency_sum', ...bucketColumns].map((c) => `${c} = ${x}.${c} + excluded.${c}`).join(', '),
  }])),
  monitoring_run_minutes: { columns: ['minute', 'workflow', 'status', 'count'], key: ['minute', 'workflow', 'status'], set: (x) => `count = ${x}.count + excluded.count` },
  monitoring_launch_minutes: { columns: ['minute', 'launch', 'outcome', 'count'], key: ['minute', 'launch', 'outcome'], set: (x) => `count = ${x}.count + excluded.count` },
  monitoring_senders: {
    columns: ['sender', 'last_message_at'], key: ['sender'],
    set: (x) => `last_message_at = CASE WHEN excluded.last_message_at > ${x}.last_message_at THEN excluded.last_message_at ELSE ${x}.last_message_at END`,
  },
};

/** `INSERT … VALUES ($1, …), (…) ON CONFLICT … DO UPDATE` adding to the stored row: both databases accept it. */
function upsertText(table: string, rows: number): string {
  const u = UPSERTS[table]!;
  const n = u.columns.length;
  const values = Array.from({ length: rows }, (_, r) => `(${u.columns.map((_, c) => `$${r * n + c + 1}`).join(', ')})`).join(', ');
  return `INSERT INTO ${table} (${u.columns.join(', ')}) VALUES ${values} ON CONFLICT (${u.key.join(', ')}) DO UPDATE SET ${u.set(table)}`;
}

/** A total order on the rows' keys (the same on every runtime), so two runtimes' upserts lock rows in one order and cannot deadlock. */
function byKey(a: unknown[], b: unknown[], keyLength: number): number {
  for (let i = 0; i < keyLength; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The pending rows as statements: table by table in one order, each table's rows (the backlog's
 * with the new) in key order, so two runtimes' transactions lock rows in the same order. A key
 * met again (a backlog row and a new one) starts a new statement: one upsert cannot add to a row twice.
 */
function* statements(writes: Write[]): Generator<[string, unknown[][]]> {
  for (const [table, u] of Object.entries(UPSERTS)) {
    const keyLength = u.key.length;
    const rows = writes.filter((w) => w.table === table).flatMap((w) => w.rows).sort((a, b) => byKey(a, b, keyLength));
    let chunk: unknown[][] = [];
    for (const row of rows) {
      if (chunk.length === ROWS_PER_STATEMENT || (chunk.length && byKey(chunk[chunk.length - 1]!, row, keyLength) === 0)) {
        yield [table, chunk];
        chunk = [];
      }
      chunk.push(row);
    }
    if (chunk.length) yield [table, chunk];
  }
}

export class Rollups {
  private messages = new Map<string, MessageCell>();
  private runs = new Map<string, RunCell>();
  private launches = new Map<string, LaunchCell>();
  private lastSeen = new Map<string, number>();
  /** Upserts that failed (the database unreachable), tried again first at the next flush. */
  private backlog: Write[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The flush under way: flushes run one after the other. */
  private flushing: Promise<void> = Promise.resolve();
  /** Called after each flush that wrote something (live updates). */
  onFlush: (() => void) | undefined;
  /** Called when a flush could not write (the cells are kept and tried again). */
  onError: ((err: Error) => void) | undefined;

  constructor(private readonly sql: SharedSql) {}

  /** Flushes once a second (the timer does not keep the process alive). */
  start(intervalMs = 1000): this {
    this.timer ??= setInterval(() => void this.flush().catch(() => undefined), intervalMs);
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

  /** Adds what was counted since the last flush to the tables; rejects when the database could not be written (the cells are kept). */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.write());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    const writes = [...this.backlog, ...this.take()];
    this.backlog = [];
    if (!writes.length) return;
    try {
      // One transaction: one wait for the write lock (with SQLite, held by the journal's writer
      // while it commits; the wait blocks this thread), and all of it written or none.
      await this.sql.transaction(async (tx) => {
        for (const [table, chunk] of statements(writes)) await tx.run(upsertText(table, chunk.length), chunk.flat());
      });
    } catch (err) {
      // Nothing was written: all of it waits for the next flush, the oldest dropped beyond the bound.
      this.backlog = writes;
      let total = this.backlog.reduce((a, x) => a + x.rows.length, 0);
      while (total > MAX_BACKLOG_ROWS && this.backlog.length > 1) total -= this.backlog.shift()!.rows.length;
      this.onError?.(err as Error);
      throw err;
    }
    this.onFlush?.();
  }

  /** The cells counted since the last flush as upserts. */
  private take(): Write[] {
    if (!this.messages.size && !this.runs.size && !this.launches.size && !this.lastSeen.size) return [];
    const m = [...this.messages.values()];
    const writes: Write[] = [
      { table: 'monitoring_message_minutes', rows: m.map(messageRow) },
      { table: 'monitoring_message_hours', rows: hourly(m).map(messageRow) },
      { table: 'monitoring_run_minutes', rows: [...this.runs.values()].map((c) => [c.minute, c.workflow, c.status, c.count]) },
      { table: 'monitoring_launch_minutes', rows: [...this.launches.values()].map((c) => [c.minute, c.launch, c.outcome, c.count]) },
      { table: 'monitoring_senders', rows: [...this.lastSeen] },
    ].filter((w) => w.rows.length);
    this.messages = new Map();
    this.runs = new Map();
    this.launches = new Map();
    this.lastSeen = new Map();
    return writes;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Message counts per sender, type and ACK code over [from, to). */
  async messageTotals(from: number, to: number): Promise<MessageTotals[]> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<Record<string, number | string>>(`SELECT sender, message_type, ack_code, SUM(count) AS count, SUM(latency_sum) AS latency_sum,
        ${bucketColumns.map((c) => `SUM(${c}) AS ${c}`).join(', ')}
      FROM ${tableFor(from, to)} WHERE minute >= $1 AND minute < $2 GROUP BY sender, message_type, ack_code ORDER BY sender, message_type, ack_code`,
    [align(from, to), to]);
    return rows.map((r) => ({
      sender: r.sender as string, messageType: r.message_type as string, ackCode: r.ack_code as string,
      count: Number(r.count), latencySumMs: Number(r.latency_sum), buckets: bucketColumns.map((c) => Number(r[c])),
    }));
  }

  /** Per sender and message type: counts, ACK codes and latency percentiles (ms). */
  async senderSummaries(from: number, to: number): Promise<SenderSummary[]> {
    const byKey = new Map<string, { sender: string; messageType: string; count: number; ackCodes: Record<string, number>; buckets: number[] }>();
    for (const t of await this.messageTotals(from, to)) {
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
  async series(from: number, to: number, stepMinutes = 1): Promise<SeriesPoint[]> {
    await this.flush().catch(() => undefined);
    const step = stepMinutes * MINUTE;
    const rows = await this.sql.all<{ minute: number; sender: string; count: number }>(`SELECT (minute / $1) * $1 AS minute, sender, SUM(count) AS count
      FROM ${tableFor(from, to, stepMinutes)} WHERE minute >= $2 AND minute < $3 GROUP BY 1, sender ORDER BY 1`, [step, align(from, to, stepMinutes), to]);
    return rows.map((r) => ({ minute: Number(r.minute), sender: r.sender, count: Number(r.count) }));
  }

  /** Messages per ACK code per step (minutes) over [from, to). */
  async ackSeries(from: number, to: number, stepMinutes = 1): Promise<AckPoint[]> {
    await this.flush().catch(() => undefined);
    const step = stepMinutes * MINUTE;
    const rows = await this.sql.all<{ minute: number; ack_code: string; count: number }>(`SELECT (minute / $1) * $1 AS minute, ack_code, SUM(count) AS count
      FROM ${tableFor(from, to, stepMinutes)} WHERE minute >= $2 AND minute < $3 GROUP BY 1, ack_code ORDER BY 1`, [step, align(from, to, stepMinutes), to]);
    return rows.map((r) => ({ minute: Number(r.minute), ackCode: r.ack_code, count: Number(r.count) }));
  }

  /** The rollup rows over [from, to) as stored (per minute, or per hour for long ranges), oldest first. */
  async rows(from: number, to: number): Promise<Array<{ minute: number; sender: string; messageType: string; ackCode: string; count: number; latencySumMs: number }>> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<{ minute: number; sender: string; message_type: string; ack_code: string; count: number; latency_sum: number }>(
      `SELECT minute, sender, message_type, ack_code, count, latency_sum FROM ${tableFor(from, to)}
      WHERE minute >= $1 AND minute < $2 ORDER BY minute, sender, message_type, ack_code`, [align(from, to), to]);
    return rows.map((r) => ({ minute: Number(r.minute), sender: r.sender, messageType: r.message_type, ackCode: r.ack_code, count: Number(r.count), latencySumMs: Number(r.latency_sum) }));
  }

  /** Settled workflow runs per workflow and status over [from, to). */
  async runTotals(from: number, to: number): Promise<Array<{ workflow: string; status: string; count: number }>> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<{ workflow: string; status: string; count: number }>(`SELECT workflow, status, SUM(count) AS count FROM monitoring_run_minutes
      WHERE minute >= $1 AND minute < $2 GROUP BY workflow, status ORDER BY workflow, status`, [from - (from % MINUTE), to]);
    return rows.map((r) => ({ workflow: r.workflow, status: r.status, count: Number(r.count) }));
  }

  /** The minutes with traffic over [from, to) per sender, oldest first (the primary key's order: no sort). */
  async activeMinutes(from: number, to: number): Promise<Array<{ minute: number; sender: string }>> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<{ minute: number; sender: string }>(`SELECT minute, sender FROM monitoring_message_minutes
      WHERE minute >= $1 AND minute < $2 GROUP BY minute, sender ORDER BY minute, sender`, [from - (from % MINUTE), to]);
    return rows.map((r) => ({ minute: Number(r.minute), sender: r.sender }));
  }

  /** SMART launches per launch and outcome over [from, to). */
  async launchTotals(from: number, to: number): Promise<Array<{ launch: string; outcome: string; count: number }>> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<{ launch: string; outcome: string; count: number }>(`SELECT launch, outcome, SUM(count) AS count FROM monitoring_launch_minutes
      WHERE minute >= $1 AND minute < $2 GROUP BY launch, outcome ORDER BY launch, outcome`, [from - (from % MINUTE), to]);
    return rows.map((r) => ({ launch: r.launch, outcome: r.outcome, count: Number(r.count) }));
  }

  /** Each sender's last message time. */
  async lastMessages(): Promise<Map<string, number>> {
    await this.flush().catch(() => undefined);
    const rows = await this.sql.all<{ sender: string; last_message_at: number }>('SELECT sender, last_message_at FROM monitoring_senders');
    return new Map(rows.map((r) => [r.sender, Number(r.last_message_at)]));
  }
}

/** A minute cell as the message tables' row. */
function messageRow(c: MessageCell): unknown[] {
  return [c.minute, c.sender, c.type, c.ack, c.count, c.latencySum, ...c.buckets];
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
