// Dashboard sessions: the browser holds a random token (HttpOnly, SameSite=Strict cookie); the
// table holds its SHA-256, the user, the role and the session's CSRF token. A session ends after
// `idleMs` without a request, or at sign-out.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
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
  constructor(private readonly db: Database, private readonly idleMs: number, private readonly now: () => number = Date.now) {}

  /** A new session; its token goes into the cookie. */
  create(username: string, role: DashboardRoleName): { token: string; session: Session } {
    const token = randomToken();
    const session = { username, role, csrf: randomToken() };
    const t = this.now();
    this.db.prepare('INSERT INTO monitoring_sessions (id_hash, username, role, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(hash(token), username, role, session.csrf, t, t);
    return { token, session };
  }

  /** The session of a cookie token, its idle time renewed; expired ones are removed. */
  lookup(token: string | undefined): SessionLookup {
    if (!token) return { ok: false, reason: 'none' };
    const id = hash(token);
    const row = this.db.prepare('SELECT username, role, csrf, last_seen_at FROM monitoring_sessions WHERE id_hash = ?').get(id) as
      { username: string; role: DashboardRoleName; csrf: string; last_seen_at: number } | undefined;
    if (!row) return { ok: false, reason: 'none' };
    const t = this.now();
    if (t - row.last_seen_at > this.idleMs) {
      this.db.prepare('DELETE FROM monitoring_sessions WHERE id_hash = ?').run(id);
      return { ok: false, reason: 'expired' };
    }
    // Renewed at most once a minute: a page's live updates do not write on every request.
    if (t - row.last_seen_at > 60_000) this.db.prepare('UPDATE monitoring_sessions SET last_seen_at = ? WHERE id_hash = ?').run(t, id);
    return { ok: true, session: { username: row.username, role: row.role, csrf: row.csrf } };
  }

  end(token: string | undefined): void {
    if (token) this.db.prepare('DELETE FROM monitoring_sessions WHERE id_hash = ?').run(hash(token));
  }

  purgeIdle(): number {
    return this.db.prepare('DELETE FROM monitoring_sessions WHERE last_seen_at < ?').run(this.now() - this.idleMs).changes;
  }
}
