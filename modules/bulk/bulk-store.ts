// SQL over the module's tables (bulk-schema.ts), in the shared database (PostgreSQL when the
// store is, else the runtime's SQLite file), written once with `$1…$n` for both. Reads for the CLI
// (list, status) are plain functions of that database so `hdc bulk` can use them without a runtime.
//
// An export is driven by one runtime at a time: the one holding its lease (`owner`, `lease_until`,
// renewed while it runs). Every write of a running export is fenced by the lease, so a runtime that
// lost it (stalled past its lease, then woke up) commits nothing more; the runtime that took over
// continues from the committed progress.
import type { SharedSql, SqlStatements } from '../../runtime/store/shared-sql.ts';
import type { ModuleRuns } from '../../runtime/workflows/module-runs.ts';
import type { QueueBatch } from './queue-writer.ts';

export type ExportStatus = 'requested' | 'kickoff' | 'polling' | 'downloading' | 'done' | 'failed' | 'cancelled';
export const ACTIVE: readonly ExportStatus[] = ['requested', 'kickoff', 'polling', 'downloading'];

export interface ExportRow {
  id: string;
  name: string;
  status: ExportStatus;
  cancel_requested: number;
  requested_by: string;
  kickoff_url: string | null;
  poll_url: string | null;
  since: string | null;
  progress: string | null;
  transaction_time: string | null;
  requires_token: number;
  next_manifest: string | null;
  source_id: number | null;
  files: number;
  files_done: number;
  resources: number;
  bytes: number;
  bytes_total: number | null;
  errors: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  owner: string | null;
  lease_until: number | null;
}

export interface FileRow {
  export_id: string;
  idx: number;
  kind: 'output' | 'error' | 'deleted';
  type: string;
  url: string;
  count: number | null;
  lines: number;
  bytes: number;
  resources: number;
  status: 'pending' | 'done' | 'failed';
  error: string | null;
}

export interface ManifestFile { kind: FileRow['kind']; type: string; url: string; count?: number }

const ACTIVE_SQL = ACTIVE.map((s) => `'${s}'`).join(',');

/** The export's lease was taken by another runtime (this one stalled past it): stop, commit nothing. */
export class LeaseLost extends Error {
  constructor(id: string) {
    super(`bulk export ${id}: another runtime took it over`);
  }
}

type Patch = Partial<Pick<ExportRow, 'status' | 'kickoff_url' | 'poll_url' | 'since' | 'progress' | 'transaction_time' | 'requires_token' | 'next_manifest' | 'source_id' | 'error' | 'finished_at'>> & { clearNext?: boolean };
const PATCHED = ['status', 'kickoff_url', 'poll_url', 'since', 'progress', 'transaction_time', 'requires_token', 'next_manifest', 'source_id', 'error', 'finished_at'] as const;

export class BulkStore {
  /** The database's clock for leases (PostgreSQL: runtimes with skewed clocks agree). */
  private readonly now: string;

  /** `owner`: this runtime's id, written as the lease holder of the exports it runs. */
  constructor(readonly sql: SharedSql, readonly runs: ModuleRuns, readonly owner: string) {
    this.now = sql.dialect === 'postgres' ? 'hdc_now_ms()' : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
  }

  export(id: string): Promise<ExportRow | undefined> {
    return this.sql.get<ExportRow>('SELECT * FROM bulk_exports WHERE id = $1', [id]);
  }

  /** Fenced by the lease: throws LeaseLost when this runtime no longer holds it. */
  async update(id: string, fields: Patch, tx: SqlStatements = this.sql): Promise<void> {
    const params: unknown[] = [id, Date.now(), fields.clearNext ? 1 : 0, this.owner, ...PATCHED.map((k) => fields[k] ?? null)];
    const changed = await tx.run(`UPDATE bulk_exports SET
      status = COALESCE($5, status), kickoff_url = COALESCE($6, kickoff_url), poll_url = COALESCE($7, poll_url),
      since = COALESCE($8, since), progress = COALESCE($9, progress), transaction_time = COALESCE($10, transaction_time),
      requires_token = COALESCE($11, requires_token), next_manifest = CASE WHEN $3 = 1 THEN NULL ELSE COALESCE($12, next_manifest) END,
      source_id = COALESCE($13, source_id), error = COALESCE($14, error), finished_at = COALESCE($15, finished_at),
      updated_at = $2 WHERE id = $1 AND owner = $4`, params);
    if (!changed) throw new LeaseLost(id);
  }

  /** An export asked for with a name no block has: failed by whichever runtime sees it (not leased). */
  async refuse(id: string, error: string): Promise<void> {
    await this.sql.run("UPDATE bulk_exports SET status = 'failed', error = $2, finished_at = $3, updated_at = $3 WHERE id = $1 AND status = 'requested'", [id, error, Date.now()]);
  }

  files(id: string): Promise<FileRow[]> {
    return this.sql.all<FileRow>('SELECT * FROM bulk_files WHERE export_id = $1 ORDER BY idx', [id]);
  }

  /** A manifest's files, with its transaction time and what comes next, in one transaction. */
  async addManifest(id: string, files: ManifestFile[], fields: { transaction_time?: string; requires_token?: number; next_manifest?: string | null }): Promise<void> {
    await this.sql.transaction(async (tx) => {
      // First, so that a runtime without the lease adds nothing.
      await this.update(id, { status: 'downloading', ...fields, ...(fields.next_manifest === null ? { clearNext: true } : {}), next_manifest: fields.next_manifest ?? undefined }, tx);
      const first = (await tx.get<{ n: number }>('SELECT COALESCE(MAX(idx), -1) + 1 AS n FROM bulk_files WHERE export_id = $1', [id]))!.n;
      for (const [i, f] of files.entries()) {
        await tx.run("INSERT INTO bulk_files (export_id, idx, kind, type, url, count, status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')", [id, first + i, f.kind, f.type, f.url, f.count ?? null]);
      }
      await tx.run('UPDATE bulk_exports SET files = (SELECT COUNT(*) FROM bulk_files WHERE export_id = $1) WHERE id = $1', [id]);
    });
  }

  /**
   * A file's batch: its workflow runs queued, its error records and the file's new progress, in
   * one transaction (fenced by the lease: the export's row is written first, and a runtime that
   * lost the lease rolls back having queued nothing). Resolves with the runs' ids.
   */
  async applyBatch(b: QueueBatch): Promise<number[]> {
    return this.runs.transaction(async (tx) => {
      const now = Date.now();
      const held = await tx.run('UPDATE bulk_exports SET resources = resources + $1, bytes = bytes + $2, errors = errors + $3, updated_at = $4 WHERE id = $5 AND owner = $6',
        [b.resources, b.addedBytes, b.errors.length, now, b.exportId, this.owner]);
      if (!held) throw new LeaseLost(b.exportId);
      const ids = await tx.enqueue(b.source, b.sender, b.runs, now);
      for (const e of b.errors) await tx.run('INSERT INTO bulk_errors (export_id, file_idx, line, reason, at) VALUES ($1, $2, $3, $4, $5)', [b.exportId, b.idx, e.line, e.reason.slice(0, 1000), now]);
      await tx.run('UPDATE bulk_files SET lines = $1, bytes = $2, resources = resources + $3 WHERE export_id = $4 AND idx = $5', [b.lines, b.bytes, b.resources, b.exportId, b.idx]);
      return ids;
    });
  }

  async recordError(id: string, idx: number | null, line: number | null, reason: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const held = await tx.run('UPDATE bulk_exports SET errors = errors, updated_at = $2 WHERE id = $1 AND owner = $3', [id, Date.now(), this.owner]);
      if (!held) throw new LeaseLost(id);
      await tx.run('INSERT INTO bulk_errors (export_id, file_idx, line, reason, at) VALUES ($1, $2, $3, $4, $5)', [id, idx, line, reason.slice(0, 1000), Date.now()]);
    });
  }

  async finishFile(id: string, idx: number, status: 'done' | 'failed', error: string | null = null): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const held = await tx.run(`UPDATE bulk_exports SET updated_at = $2 WHERE id = $1 AND owner = $3`, [id, Date.now(), this.owner]);
      if (!held) throw new LeaseLost(id);
      await tx.run('UPDATE bulk_files SET status = $1, error = $2 WHERE export_id = $3 AND idx = $4', [status, error, id, idx]);
      await tx.run(`UPDATE bulk_exports SET files_done = (SELECT COUNT(*) FROM bulk_files WHERE export_id = $1 AND status <> 'pending') WHERE id = $1`, [id]);
    });
  }

  /** The transaction time of the last export of `name` that finished: `since last_success`. */
  async lastSuccess(name: string): Promise<string | undefined> {
    const row = await this.sql.get<{ transaction_time: string }>("SELECT transaction_time FROM bulk_exports WHERE name = $1 AND status = 'done' AND transaction_time IS NOT NULL ORDER BY finished_at DESC LIMIT 1", [name]);
    return row?.transaction_time;
  }

  active(): Promise<ExportRow[]> {
    return this.sql.all<ExportRow>(`SELECT * FROM bulk_exports WHERE status IN (${ACTIVE_SQL}) ORDER BY created_at`);
  }

  /**
   * Takes an active export's lease for `leaseMs`: free, already this runtime's, or run out (its
   * runtime died). `force` (one runtime per database: SQLite) takes it whoever held it.
   */
  async claim(id: string, leaseMs: number, force = false): Promise<boolean> {
    return (await this.sql.run(`UPDATE bulk_exports SET owner = $1, lease_until = ${this.now} + $2
      WHERE id = $3 AND status IN (${ACTIVE_SQL}) AND ($4 = 1 OR owner IS NULL OR owner = $1 OR lease_until < ${this.now})`, [this.owner, leaseMs, id, force ? 1 : 0])) === 1;
  }

  /** Extends the lease; false when another runtime took it meanwhile. */
  async renew(id: string, leaseMs: number): Promise<boolean> {
    return (await this.sql.run(`UPDATE bulk_exports SET lease_until = ${this.now} + $2 WHERE id = $3 AND owner = $1`, [this.owner, leaseMs, id])) === 1;
  }

  /** Gives the lease up (a runtime stopping): another runtime continues at once. */
  async release(id: string): Promise<void> {
    await this.sql.run('UPDATE bulk_exports SET owner = NULL, lease_until = NULL WHERE id = $1 AND owner = $2', [id, this.owner]);
  }
}

/**
 * Asks for an export (the CLI, a schedule): a runtime picks it up. Refused while one of `name` is
 * active, or (`minGapMs`, schedules) when one was asked for that recently: several runtimes'
 * schedules reaching the same time start one export.
 */
export async function requestExport(sql: SharedSql, name: string, by: string, now = Date.now(), minGapMs = 0): Promise<{ id: string } | { active: string } | { recent: string }> {
  return sql.transaction(async (tx) => {
    // PostgreSQL: two runtimes (or the CLI) asking at once take turns; SQLite's BEGIN IMMEDIATE does that already.
    if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(hashtext($1))', [`bulk-request/${name}`]);
    const busy = await tx.get<{ id: string }>(`SELECT id FROM bulk_exports WHERE name = $1 AND status IN (${ACTIVE_SQL})`, [name]);
    if (busy) return { active: busy.id };
    if (minGapMs > 0) {
      const recent = await tx.get<{ id: string }>('SELECT id FROM bulk_exports WHERE name = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT 1', [name, now - minGapMs]);
      if (recent) return { recent: recent.id };
    }
    const id = `${name}-${now.toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    await tx.run("INSERT INTO bulk_exports (id, name, status, requested_by, created_at, updated_at) VALUES ($1, $2, 'requested', $3, $4, $4)", [id, name, by, now]);
    return { id };
  });
}

/** Asks the runtime running the active export of `name` to cancel it (it sends DELETE to the server). */
export async function requestCancel(sql: SharedSql, name: string): Promise<string | undefined> {
  const row = await sql.get<{ id: string }>(`SELECT id FROM bulk_exports WHERE name = $1 AND status IN (${ACTIVE_SQL})`, [name]);
  if (row) await sql.run('UPDATE bulk_exports SET cancel_requested = 1, updated_at = $1 WHERE id = $2', [Date.now(), row.id]);
  return row?.id;
}

export function exportRow(sql: SqlStatements, id: string): Promise<ExportRow | undefined> {
  return sql.get<ExportRow>('SELECT * FROM bulk_exports WHERE id = $1', [id]);
}

export function listExports(sql: SqlStatements, name?: string, limit = 20): Promise<ExportRow[]> {
  return name
    ? sql.all<ExportRow>('SELECT * FROM bulk_exports WHERE name = $1 ORDER BY created_at DESC LIMIT $2', [name, limit])
    : sql.all<ExportRow>('SELECT * FROM bulk_exports ORDER BY created_at DESC LIMIT $1', [limit]);
}

export function exportErrors(sql: SqlStatements, id: string, limit = 50): Promise<Array<{ file_idx: number | null; line: number | null; reason: string }>> {
  return sql.all('SELECT file_idx, line, reason FROM bulk_errors WHERE export_id = $1 ORDER BY id LIMIT $2', [id, limit]);
}

/** The resources the manifest announced, when every output file gave its count. */
export async function expectedResources(sql: SqlStatements, id: string): Promise<number | undefined> {
  const r = (await sql.get<{ files: number; counted: number; total: number | null }>("SELECT COUNT(*) AS files, COUNT(count) AS counted, SUM(count) AS total FROM bulk_files WHERE export_id = $1 AND kind = 'output'", [id]))!;
  return r.files && r.files === r.counted ? (r.total === null ? undefined : Number(r.total)) : undefined;
}
