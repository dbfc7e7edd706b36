// Bulk FHIR exports as the bulk module announces them (`bulk-export` module events: the block's
// name, the export's id, its status and counts; never content). The latest state of each export
// is kept in memory and written to the module's own table (`monitoring_bulk_exports`) once a
// second, and at once when an export ends, so the overview's Exports panel shows the history after
// a restart without reading the bulk module's tables. Each event is also turned into the counters'
// increments: what the export did since the last event of it this runtime saw (or since the state
// stored before a restart), so a resumed export is not counted twice.
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
import type { BulkExportEvent } from './seam.ts';

const ENDED: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);
/** Exports per block the overview lists, newest first. */
export const RECENT_EXPORTS = 10;
/** Exports whose last state is kept in memory (running ones always). */
const MAX_SEEN = 1000;

/** An export as the panel shows it: the event's counts, as stored (status read back as text). */
export interface ExportSummary extends Omit<BulkExportEvent, 'status'> {
  status: string;
  updatedAt: number;
  /** Resources per second from the start to the end (or the last event while it runs). */
  rate: number | null;
}

/** What an event adds to the counters. */
export interface ExportIncrement {
  block: string;
  resources: number;
  bytes: number;
  errors: number;
  /** The export ended with this event (done, failed or cancelled): counted once. */
  outcome?: string;
}

interface Seen {
  status: string;
  resources: number;
  bytes: number;
  errors: number;
}

export class BulkExports {
  private pending = new Map<string, BulkExportEvent & { updatedAt: number }>();
  /** The last state this runtime counted per export (for the increments). */
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Called after each flush that wrote something (live updates). */
  onFlush: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;

  constructor(private readonly sql: SharedSql) {}

  /** Reads the state stored for exports that had not ended (a restart resumes them), then flushes once a second. */
  async start(intervalMs = 1000): Promise<this> {
    const rows = await this.sql.all<{ export_id: string; status: string; resources: number; bytes: number; errors: number }>(
      `SELECT export_id, status, resources, bytes, errors FROM monitoring_bulk_exports WHERE ended_at IS NULL`);
    for (const r of rows) this.seen.set(r.export_id, { status: r.status, resources: Number(r.resources), bytes: Number(r.bytes), errors: Number(r.errors) });
    this.timer ??= setInterval(() => void this.flush().catch((err) => this.onError?.(err as Error)), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Takes an announcement in; returns what it adds to the counters. */
  take(e: BulkExportEvent, now = Date.now()): ExportIncrement {
    this.pending.set(e.export, { ...e, updatedAt: now });
    const before = this.seen.get(e.export) ?? { status: 'requested', resources: 0, bytes: 0, errors: 0 };
    const ended = ENDED.has(e.status) && !ENDED.has(before.status);
    this.seen.set(e.export, { status: e.status, resources: Math.max(before.resources, e.resources), bytes: Math.max(before.bytes, e.bytes), errors: Math.max(before.errors, e.errors) });
    if (ended) {
      // Kept (the end is announced twice); the oldest ended ones are forgotten beyond a bound.
      if (this.seen.size > MAX_SEEN) for (const [id, v] of this.seen) if (ENDED.has(v.status) && this.seen.size > MAX_SEEN / 2) this.seen.delete(id);
      // An export that ended is shown at once (the page's live update follows the flush).
      void this.flush().catch((err) => this.onError?.(err as Error));
    }
    return {
      block: e.block,
      resources: Math.max(0, e.resources - before.resources),
      bytes: Math.max(0, e.bytes - before.bytes),
      errors: Math.max(0, e.errors - before.errors),
      ...(ended ? { outcome: e.status } : {}),
    };
  }

  /** Writes the exports' latest states; rejects when the database could not be written (they are kept for the next flush). */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.write());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      for (const r of rows) {
        await this.sql.run(`INSERT INTO monitoring_bulk_exports (block, export_id, status, files, files_done, resources, bytes, errors, started_at, updated_at, ended_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
          ON CONFLICT (block, export_id) DO UPDATE SET status = excluded.status, files = excluded.files, files_done = excluded.files_done,
            resources = excluded.resources, bytes = excluded.bytes, errors = excluded.errors, updated_at = excluded.updated_at, ended_at = excluded.ended_at`,
        [r.block, r.export, r.status, r.files, r.filesDone, r.resources, r.bytes, r.errors, r.startedAt, r.updatedAt, r.endedAt]);
      }
    } catch (err) {
      // Newer states that arrived meanwhile win over the ones not written.
      for (const r of rows) if (!this.pending.has(r.export)) this.pending.set(r.export, r);
      throw err;
    }
    this.onFlush?.();
  }

  /** The newest exports of each block (RECENT_EXPORTS per block), blocks in the order given. */
  async recent(blocks: readonly string[], perBlock = RECENT_EXPORTS): Promise<ExportSummary[]> {
    await this.flush().catch(() => undefined);
    const out: ExportSummary[] = [];
    for (const block of blocks) {
      const rows = await this.sql.all<Record<string, string | number | null>>(`SELECT block, export_id, status, files, files_done, resources, bytes, errors, started_at, updated_at, ended_at
        FROM monitoring_bulk_exports WHERE block = $1 ORDER BY started_at DESC, export_id DESC LIMIT $2`, [block, perBlock]);
      for (const r of rows) {
        const startedAt = Number(r.started_at);
        const endedAt = r.ended_at === null ? null : Number(r.ended_at);
        const updatedAt = Number(r.updated_at);
        const resources = Number(r.resources);
        const seconds = ((endedAt ?? updatedAt) - startedAt) / 1000;
        out.push({
          block: String(r.block), export: String(r.export_id), status: String(r.status), files: Number(r.files), filesDone: Number(r.files_done),
          resources, bytes: Number(r.bytes), errors: Number(r.errors), startedAt, updatedAt, endedAt,
          rate: seconds > 0 && resources > 0 ? Math.round(resources / seconds) : null,
        });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
