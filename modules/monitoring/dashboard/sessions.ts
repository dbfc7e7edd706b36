// Dashboard sessions: the browser holds a random token (HttpOnly, SameSite=Strict cookie); the
// table holds its SHA-256, the user, the role and the session's CSRF token. A session ends after
// `idleMs` without a request, or at sign-out. The table is shared: a session started on one
// runtime of a cluster works on the others behind the same load balancer.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';
import type { DashboardRoleName } from '../monitoring-plan.ts';

export interface Session {
  username: string;
  role: DashboardRoleName;
  csrf: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; reason: 'none' | 'expired' };

export class DashboardSessions {
  constructor(private readonly sql: SharedSql, private readonly idleMs: number, private readonly now: () => number = Date.now) {}

  /** A new session; its token goes into the cookie. */
  async create(username: string, role: DashboardRoleName): Promise<{ token: string; session: Session }> {
    const token = randomToken();
    const session = { username, role, csrf: randomToken() };
    const t = this.now();
    await this.sql.run('INSERT INTO monitoring_sessions (id_hash, username, role, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [hash(token), username, role, session.csrf, t, t]);
    return { token, session };
  }

  /** The session of a cookie token, its idle time renewed; expired ones are removed. */
  async lookup(token: string | undefined): Promise<SessionLookup> {
    if (!token) return { ok: false, reason: 'none' };
    const id = hash(token);
    const row = await this.sql.get<{ username: string; role: DashboardRoleName; csrf: string; last_seen_at: number }>(
      'SELECT username, role, csrf, last_seen_at FROM monitoring_sessions WHERE id_hash = $1', [id]);
    if (!row) return { ok: false, reason: 'none' };
    const t = this.now();
    const seen = Number(row.last_seen_at);
    if (t - seen > this.idleMs) {
      await this.sql.run('DELETE FROM monitoring_sessions WHERE id_hash = $1', [id]);
      return { ok: false, reason: 'expired' };
    }
    // Renewed at most once a minute: a page's live updates do not write on every request.
    if (t - seen > 60_000) await this.sql.run('UPDATE monitoring_sessions SET last_seen_at = $1 WHERE id_hash = $2', [t, id]);
    return { ok: true, session: { username: row.username, role: row.role, csrf: row.csrf } };
  }

  async end(token: string | undefined): Promise<void> {
    if (token) await this.sql.run('DELETE FROM monitoring_sessions WHERE id_hash = $1', [hash(token)]);
  }

  /** Idempotent: several runtimes sweeping at once remove each expired row once between them. */
  purgeIdle(): Promise<number> {
    return this.sql.run('DELETE FROM monitoring_sessions WHERE last_seen_at < $1', [this.now() - this.idleMs]);
  }
}
