// SQL over the module's tables (bulk-schema.ts), on the main-thread connection. Reads for the CLI
// (list, status) are plain functions of a database so `hdc bulk` can use them without a runtime.
import type { Database, Statement } from 'better-sqlite3';

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

export class BulkStore {
  private readonly get: Statement<[string], ExportRow>;
  private readonly patch: Statement;
  private readonly filesOf: Statement<[string], FileRow>;
  private readonly addFile: Statement;
  private readonly progress: Statement;
  private readonly exportProgress: Statement;
  private readonly fileDone: Statement;
  private readonly addError: Statement;

  constructor(readonly db: Database) {
    this.get = db.prepare('SELECT * FROM bulk_exports WHERE id = ?');
    this.patch = db.prepare(`UPDATE bulk_exports SET
      status = COALESCE(@status, status), kickoff_url = COALESCE(@kickoff_url, kickoff_url), poll_url = COALESCE(@poll_url, poll_url),
      since = COALESCE(@since, since), progress = COALESCE(@progress, progress), transaction_time = COALESCE(@transaction_time, transaction_time),
      requires_token = COALESCE(@requires_token, requires_token), next_manifest = CASE WHEN @clear_next THEN NULL ELSE COALESCE(@next_manifest, next_manifest) END,
      source_id = COALESCE(@source_id, source_id), error = COALESCE(@error, error), finished_at = COALESCE(@finished_at, finished_at),
      updated_at = @now WHERE id = @id`);
    this.filesOf = db.prepare('SELECT * FROM bulk_files WHERE export_id = ? ORDER BY idx');
    this.addFile = db.prepare(`INSERT INTO bulk_files (export_id, idx, kind, type, url, count, status)
      VALUES (?, (SELECT COALESCE(MAX(idx), -1) + 1 FROM bulk_files WHERE export_id = ?), ?, ?, ?, ?, 'pending')`);
    this.progress = db.prepare('UPDATE bulk_files SET lines = ?, bytes = ?, resources = resources + ? WHERE export_id = ? AND idx = ?');
    this.exportProgress = db.prepare('UPDATE bulk_exports SET resources = resources + ?, bytes = bytes + ?, errors = errors + ?, updated_at = ? WHERE id = ?');
    this.fileDone = db.prepare(`UPDATE bulk_files SET status = ?, error = ? WHERE export_id = ? AND idx = ?`);
    this.addError = db.prepare('INSERT INTO bulk_errors (export_id, file_idx, line, reason, at) VALUES (?, ?, ?, ?, ?)');
  }

  export(id: string): ExportRow | undefined {
    return this.get.get(id);
  }

  update(id: string, fields: Partial<Pick<ExportRow, 'status' | 'kickoff_url' | 'poll_url' | 'since' | 'progress' | 'transaction_time' | 'requires_token' | 'next_manifest' | 'source_id' | 'error' | 'finished_at'>> & { clearNext?: boolean }): void {
    const all = ['status', 'kickoff_url', 'poll_url', 'since', 'progress', 'transaction_time', 'requires_token', 'next_manifest', 'source_id', 'error', 'finished_at'] as const;
    const params: Record<string, unknown> = { id, now: Date.now(), clear_next: fields.clearNext ? 1 : 0 };
    for (const k of all) params[k] = fields[k] ?? null;
    this.patch.run(params);
  }

  files(id: string): FileRow[] {
    return this.filesOf.all(id);
  }

  /** A manifest's files, with its transaction time and what comes next, in one transaction. */
  addManifest(id: string, files: ManifestFile[], fields: { transaction_time?: string; requires_token?: number; next_manifest?: string | null }): void {
    this.db.transaction(() => {
      for (const f of files) this.addFile.run(id, id, f.kind, f.type, f.url, f.count ?? null);
      this.db.prepare('UPDATE bulk_exports SET files = (SELECT COUNT(*) FROM bulk_files WHERE export_id = ?) WHERE id = ?').run(id, id);
      this.update(id, { status: 'downloading', ...fields, ...(fields.next_manifest === null ? { clearNext: true } : {}), next_manifest: fields.next_manifest ?? undefined });
    })();
  }

  /** Records lines handed on (call inside the transaction that queued their runs). */
  recordProgress(id: string, idx: number, lines: number, bytes: number, resources: number, addedBytes: number, errors: number): void {
    this.progress.run(lines, bytes, resources, id, idx);
    this.exportProgress.run(resources, addedBytes, errors, Date.now(), id);
  }

  recordError(id: string, idx: number | null, line: number | null, reason: string): void {
    this.addError.run(id, idx, line, reason.slice(0, 1000), Date.now());
  }

  finishFile(id: string, idx: number, status: 'done' | 'failed', error: string | null = null): void {
    this.db.transaction(() => {
      this.fileDone.run(status, error, id, idx);
      this.db.prepare(`UPDATE bulk_exports SET files_done = (SELECT COUNT(*) FROM bulk_files WHERE export_id = ? AND status <> 'pending') WHERE id = ?`).run(id, id);
    })();
  }

  /** The transaction time of the last export of `name` that finished: `since last_success`. */
  lastSuccess(name: string): string | undefined {
    const row = this.db.prepare("SELECT transaction_time FROM bulk_exports WHERE name = ? AND status = 'done' AND transaction_time IS NOT NULL ORDER BY finished_at DESC LIMIT 1").get(name) as { transaction_time: string } | undefined;
    return row?.transaction_time;
  }

  active(): ExportRow[] {
    return this.db.prepare(`SELECT * FROM bulk_exports WHERE status IN (${ACTIVE.map((s) => `'${s}'`).join(',')}) ORDER BY created_at`).all() as ExportRow[];
  }
}

/** Asks for an export (the CLI, a schedule): the runtime picks it up. Refused while one of `name` is active. */
export function requestExport(db: Database, name: string, by: string, now = Date.now()): { id: string } | { active: string } {
  return db.transaction(() => {
    const busy = db.prepare(`SELECT id FROM bulk_exports WHERE name = ? AND status IN (${ACTIVE.map((s) => `'${s}'`).join(',')})`).get(name) as { id: string } | undefined;
    if (busy) return { active: busy.id };
    const id = `${name}-${now.toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    db.prepare("INSERT INTO bulk_exports (id, name, status, requested_by, created_at, updated_at) VALUES (?, ?, 'requested', ?, ?, ?)").run(id, name, by, now, now);
    return { id };
  }).immediate();
}

/** Asks the runtime to cancel the active export of `name` (it sends DELETE to the server). */
export function requestCancel(db: Database, name: string): string | undefined {
  const row = db.prepare(`SELECT id FROM bulk_exports WHERE name = ? AND status IN (${ACTIVE.map((s) => `'${s}'`).join(',')})`).get(name) as { id: string } | undefined;
  if (row) db.prepare('UPDATE bulk_exports SET cancel_requested = 1, updated_at = ? WHERE id = ?').run(Date.now(), row.id);
  return row?.id;
}

export function listExports(db: Database, name?: string, limit = 20): ExportRow[] {
  return (name
    ? db.prepare('SELECT * FROM bulk_exports WHERE name = ? ORDER BY created_at DESC LIMIT ?').all(name, limit)
    : db.prepare('SELECT * FROM bulk_exports ORDER BY created_at DESC LIMIT ?').all(limit)) as ExportRow[];
}

export function exportErrors(db: Database, id: string, limit = 50): Array<{ file_idx: number | null; line: number | null; reason: string }> {
  return db.prepare('SELECT file_idx, line, reason FROM bulk_errors WHERE export_id = ? ORDER BY id LIMIT ?').all(id, limit) as Array<{ file_idx: number | null; line: number | null; reason: string }>;
}
