// The dashboard's audit log: who looked at which message's content, who replayed which run or message, who
// signed in or was refused — with when and the outcome. Kept for the dashboard's retention
// (retention.ts). One log for a cluster: it is a shared table.
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';

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
  constructor(private readonly sql: SharedSql) {}

  async record(e: { username: string; role: string; action: AuditAction; target?: string; outcome: string; at?: number }): Promise<void> {
    await this.sql.run('INSERT INTO monitoring_audit (at, username, role, action, target, outcome) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.at ?? Date.now(), e.username, e.role, e.action, e.target ?? null, e.outcome]);
  }

  /** Newest first. */
  async list(opts: { limit?: number; offset?: number; action?: string } = {}): Promise<AuditEntry[]> {
    const rows = opts.action
      ? await this.sql.all<AuditEntry>('SELECT * FROM monitoring_audit WHERE action = $1 ORDER BY id DESC LIMIT $2 OFFSET $3', [opts.action, opts.limit ?? 100, opts.offset ?? 0])
      : await this.sql.all<AuditEntry>('SELECT * FROM monitoring_audit ORDER BY id DESC LIMIT $1 OFFSET $2', [opts.limit ?? 100, opts.offset ?? 0]);
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }));
  }

  /** Every entry, oldest first, as CSV (RFC 4180). */
  async csv(): Promise<string> {
    const q = (v: unknown) => {
      const s = v === null || v === undefined ? '' : String(v);
      // A leading = + - @ would be a formula in a spreadsheet.
      const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
      return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
    };
    const rows = await this.sql.all<AuditEntry>('SELECT * FROM monitoring_audit ORDER BY id');
    return ['at,username,role,action,target,outcome', ...rows.map((r) => [new Date(Number(r.at)).toISOString(), r.username, r.role, r.action, r.target, r.outcome].map(q).join(','))].join('\r\n') + '\r\n';
  }
}
