// The dashboard's audit log: who looked at which message's content, who replayed which run or message, who
// signed in or was refused — with when and the outcome. Kept for the dashboard's retention.
import type { Database } from 'better-sqlite3';

export interface AuditEntry {
  id: number;
  at: number;
  username: string;
  role: string;
  action: string;
  target: string | null;
  outcome: string;
}

export type AuditAction = 'sign-in' | 'sign-in-refused' | 'sign-out' | 'view-message' | 'search-field' | 'replay-run' | 'replay-message' | 'refused';

export class AuditLog {
  constructor(private readonly db: Database) {}

  record(e: { username: string; role: string; action: AuditAction; target?: string; outcome: string; at?: number }): void {
    this.db.prepare('INSERT INTO monitoring_audit (at, username, role, action, target, outcome) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at ?? Date.now(), e.username, e.role, e.action, e.target ?? null, e.outcome);
  }

  /** Newest first. */
  list(opts: { limit?: number; offset?: number; action?: string } = {}): AuditEntry[] {
    const where = opts.action ? 'WHERE action = ?' : '';
    const args: unknown[] = opts.action ? [opts.action] : [];
    return this.db.prepare(`SELECT * FROM monitoring_audit ${where} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, opts.limit ?? 100, opts.offset ?? 0) as AuditEntry[];
  }

  /** Every entry, oldest first, as CSV (RFC 4180). */
  csv(): string {
    const q = (v: unknown) => {
      const s = v === null || v === undefined ? '' : String(v);
      // A leading = + - @ would be a formula in a spreadsheet.
      const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
      return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const rows = this.db.prepare('SELECT * FROM monitoring_audit ORDER BY id').all() as AuditEntry[];
    return ['at,username,role,action,target,outcome', ...rows.map((r) => [new Date(r.at).toISOString(), r.username, r.role, r.action, r.target, r.outcome].map(q).join(','))].join('\r\n') + '\r\n';
  }

  purge(before: number): number {
    return this.db.prepare('DELETE FROM monitoring_audit WHERE at < ?').run(before).changes;
  }
}
