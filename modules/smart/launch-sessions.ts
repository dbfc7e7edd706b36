// Server-side state of SMART launches in progress. The browser holds only an opaque session id in
// a cookie; the table keys rows by its SHA-256, so a copy of the database does not hand out live
// sessions. State values are single use: moving a row out of a phase is one conditional UPDATE,
// so a replayed or concurrent callback finds nothing to consume.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Migration } from '../../runtime/journal/migrations.ts';

export const launchSessionMigrations: readonly Migration[] = [
  {
    id: 'smart/001-launch-sessions',
    up: `
      CREATE TABLE smart_launch_sessions (
        id_hash        TEXT    PRIMARY KEY,
        launch         TEXT    NOT NULL,
        phase          TEXT    NOT NULL CHECK (phase IN ('authorize','login','done','failed')),
        kind           TEXT    NOT NULL CHECK (kind IN ('ehr','standalone')),
        iss            TEXT    NOT NULL,
        state          TEXT,
        pkce_verifier  TEXT,
        launch_param   TEXT,
        scope          TEXT    NOT NULL,
        login_state    TEXT,
        login_verifier TEXT,
        login_nonce    TEXT,
        csrf           TEXT,
        tokens         TEXT,
        refresh_token  TEXT,
        context        TEXT,
        created_at     INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL
      );
      CREATE INDEX smart_launch_sessions_expiry ON smart_launch_sessions (expires_at);
    `,
  },
];

export type LaunchPhase = 'authorize' | 'login' | 'done' | 'failed';

export interface LaunchSession {
  idHash: string;
  launch: string;
  phase: LaunchPhase;
  kind: 'ehr' | 'standalone';
  iss: string;
  state: string | null;
  pkceVerifier: string | null;
  launchParam: string | null;
  scope: string;
  loginState: string | null;
  loginVerifier: string | null;
  loginNonce: string | null;
  csrf: string | null;
  /** The token response's access part, kept only until the launch completes. */
  tokens: LaunchTokens | null;
  refreshToken: string | null;
  context: Record<string, unknown> | null;
  createdAt: number;
  expiresAt: number;
}

export interface LaunchTokens {
  accessToken: string;
  expiresAt?: number;
  scope: string;
}

interface Row {
  id_hash: string;
  launch: string;
  phase: LaunchPhase;
  kind: 'ehr' | 'standalone';
  iss: string;
  state: string | null;
  pkce_verifier: string | null;
  launch_param: string | null;
  scope: string;
  login_state: string | null;
  login_verifier: string | null;
  login_nonce: string | null;
  csrf: string | null;
  tokens: string | null;
  refresh_token: string | null;
  context: string | null;
  created_at: number;
  expires_at: number;
}

/** 256 random bits, base64url: session ids, state, CSRF tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

function fromRow(r: Row): LaunchSession {
  return {
    idHash: r.id_hash,
    launch: r.launch,
    phase: r.phase,
    kind: r.kind,
    iss: r.iss,
    state: r.state,
    pkceVerifier: r.pkce_verifier,
    launchParam: r.launch_param,
    scope: r.scope,
    loginState: r.login_state,
    loginVerifier: r.login_verifier,
    loginNonce: r.login_nonce,
    csrf: r.csrf,
    tokens: r.tokens ? (JSON.parse(r.tokens) as LaunchTokens) : null,
    refreshToken: r.refresh_token,
    context: r.context ? (JSON.parse(r.context) as Record<string, unknown>) : null,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

export interface NewSession {
  launch: string;
  kind: 'ehr' | 'standalone';
  iss: string;
  state: string;
  pkceVerifier: string;
  launchParam?: string;
  scope: string;
  ttlMs: number;
}

export class LaunchSessions {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly consumeStmt;
  private readonly purgeStmt;

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO smart_launch_sessions (id_hash, launch, phase, kind, iss, state, pkce_verifier, launch_param, scope, created_at, expires_at)
       VALUES (?, ?, 'authorize', ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getStmt = db.prepare('SELECT * FROM smart_launch_sessions WHERE id_hash = ?');
    // Single use: only a row still in the expected phase, with the expected state, moves on.
    this.consumeStmt = db.prepare(
      `UPDATE smart_launch_sessions SET phase = ?, state = NULL, pkce_verifier = NULL
       WHERE id_hash = ? AND phase = 'authorize' AND state = ? AND expires_at > ?`,
    );
    this.purgeStmt = db.prepare('DELETE FROM smart_launch_sessions WHERE expires_at < ?');
  }

  /** Creates a session; returns the opaque id for the cookie. */
  create(s: NewSession): string {
    const id = randomToken();
    const now = this.now();
    this.insertStmt.run(hashId(id), s.launch, s.kind, s.iss, s.state, s.pkceVerifier, s.launchParam ?? null, s.scope, now, now + s.ttlMs);
    return id;
  }

  get(id: string): LaunchSession | undefined {
    const row = this.getStmt.get(hashId(id)) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  isExpired(s: LaunchSession): boolean {
    return s.expiresAt <= this.now();
  }

  /** Consumes the authorization state: true once, for the browser that holds the session. */
  consumeState(idHash: string, state: string, next: LaunchPhase): boolean {
    return this.consumeStmt.run(next, idHash, state, this.now()).changes === 1;
  }

  update(idHash: string, fields: Partial<Pick<LaunchSession, 'phase' | 'loginState' | 'loginVerifier' | 'loginNonce' | 'csrf' | 'tokens' | 'refreshToken' | 'context'>>): void {
    const cols: string[] = [];
    const values: unknown[] = [];
    const set = (col: string, v: unknown) => {
      cols.push(`${col} = ?`);
      values.push(v);
    };
    if ('phase' in fields) set('phase', fields.phase);
    if ('loginState' in fields) set('login_state', fields.loginState ?? null);
    if ('loginVerifier' in fields) set('login_verifier', fields.loginVerifier ?? null);
    if ('loginNonce' in fields) set('login_nonce', fields.loginNonce ?? null);
    if ('csrf' in fields) set('csrf', fields.csrf ?? null);
    if ('tokens' in fields) set('tokens', fields.tokens ? JSON.stringify(fields.tokens) : null);
    if ('refreshToken' in fields) set('refresh_token', fields.refreshToken ?? null);
    if ('context' in fields) set('context', fields.context ? JSON.stringify(fields.context) : null);
    if (!cols.length) return;
    this.db.prepare(`UPDATE smart_launch_sessions SET ${cols.join(', ')} WHERE id_hash = ?`).run(...values, idHash);
  }

  /**
   * Moves a session out of `from` (login state consumed, or the login form used) — true once.
   */
  transition(idHash: string, from: LaunchPhase, to: LaunchPhase, loginState?: string): boolean {
    const sql = loginState === undefined
      ? `UPDATE smart_launch_sessions SET phase = ? WHERE id_hash = ? AND phase = ? AND expires_at > ?`
      : `UPDATE smart_launch_sessions SET phase = ?, login_state = NULL WHERE id_hash = ? AND phase = ? AND expires_at > ? AND login_state = ?`;
    const args: unknown[] = [to, idHash, from, this.now()];
    if (loginState !== undefined) args.push(loginState);
    return this.db.prepare(sql).run(...args).changes === 1;
  }

  /** Ends a launch: access token and secrets of the handshake dropped, the refresh token kept only when asked. */
  finish(idHash: string, phase: 'done' | 'failed', keepRefreshToken: boolean): void {
    this.db
      .prepare(
        `UPDATE smart_launch_sessions SET phase = ?, tokens = NULL, state = NULL, pkce_verifier = NULL, login_state = NULL,
         login_verifier = NULL, login_nonce = NULL, csrf = NULL, context = NULL${keepRefreshToken ? '' : ', refresh_token = NULL'} WHERE id_hash = ?`,
      )
      .run(phase, idHash);
  }

  /** Deletes sessions expired longer than `graceMs` ago; returns how many. */
  purge(graceMs = 0): number {
    return this.purgeStmt.run(this.now() - graceMs).changes;
  }
}
