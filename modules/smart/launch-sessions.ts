// Server-side state of SMART launches in progress. The browser holds only an opaque session id in
// a cookie; the table keys rows by its SHA-256, so a copy of the database does not hand out live
// sessions. State values are single use: moving a row out of a phase is one conditional UPDATE,
// so a replayed or concurrent callback finds nothing to consume. Tokens are never stored: the
// code is exchanged and the fetches run in the callback's request. What waits between requests
// (PKCE verifiers, the IdP nonce, the signed-in user's claims) is sealed (session-cipher.ts) and
// wiped when the launch ends or its state expires.
import { createHash, randomBytes } from 'node:crypto';
import type { Migration } from '../../runtime/journal/migrations.ts';
import type { SessionCipher } from './session-cipher.ts';
import type { SharedSql } from '../../runtime/store/shared-sql.ts';

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
    postgres: `
      CREATE TABLE smart_launch_sessions (
        id_hash        text   PRIMARY KEY,
        launch         text   NOT NULL,
        phase          text   NOT NULL CHECK (phase IN ('authorize','login','done','failed')),
        kind           text   NOT NULL CHECK (kind IN ('ehr','standalone')),
        iss            text   NOT NULL,
        state          text,
        pkce_verifier  text,
        launch_param   text,
        scope          text   NOT NULL,
        login_state    text,
        login_verifier text,
        login_nonce    text,
        csrf           text,
        tokens         text,
        refresh_token  text,
        context        text,
        created_at     bigint NOT NULL,
        expires_at     bigint NOT NULL
      );
      CREATE INDEX smart_launch_sessions_expiry ON smart_launch_sessions (expires_at);
    `,
  },
  {
    // The signed-in user's claims (sealed) while the EHR authorizes: the login now comes first.
    id: 'smart/002-launch-session-user',
    up: `ALTER TABLE smart_launch_sessions ADD COLUMN user_claims TEXT;`,
    postgres: `ALTER TABLE smart_launch_sessions ADD COLUMN user_claims text;`,
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
  /** The signed-in user (`user` in the rules), once the login is done. */
  user: Record<string, unknown> | null;
  createdAt: number;
  expiresAt: number;
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
  user_claims: string | null;
  created_at: number;
  expires_at: number;
}

/** 256 random bits, base64url: session ids, state, CSRF tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The first characters of a launch's states name its cookie (several launches per browser). */
export const LAUNCH_KEY_LENGTH = 16;

export function randomLaunchKey(): string {
  return randomBytes(12).toString('base64url');
}

/** The launch key a state starts with; undefined when the value cannot be one of ours. */
export function launchKeyOf(state: string | undefined): string | undefined {
  if (!state || state.length < LAUNCH_KEY_LENGTH + 22) return undefined;
  const key = state.slice(0, LAUNCH_KEY_LENGTH);
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : undefined;
}

export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export interface NewSession {
  launch: string;
  kind: 'ehr' | 'standalone';
  iss: string;
  /** login: the user signs in first; authorize: straight to the EHR. */
  phase: 'login' | 'authorize';
  launchParam?: string;
  scope: string;
  ttlMs: number;
}

/** Secrets wiped when a launch ends or expires. */
const WIPE = 'state = NULL, pkce_verifier = NULL, login_state = NULL, login_verifier = NULL, login_nonce = NULL, csrf = NULL, user_claims = NULL, tokens = NULL, refresh_token = NULL, context = NULL';

export class LaunchSessions {
  constructor(
    /** The shared tables: a launch may start on one runtime and come back to another. */
    private readonly sql: SharedSql,
    private readonly now: () => number = Date.now,
    /** The cipher of a launch block's sessions. */
    private readonly cipherFor: (launch: string) => SessionCipher,
  ) {}

  private seal(launch: string, v: string | null | undefined): string | null {
    return v === null || v === undefined ? null : this.cipherFor(launch).seal(v);
  }

  private open(launch: string, v: string | null): string | null {
    return v === null ? null : (this.cipherFor(launch).open(v) ?? null);
  }

  private fromRow(r: Row): LaunchSession {
    const user = this.open(r.launch, r.user_claims);
    return {
      idHash: r.id_hash,
      launch: r.launch,
      phase: r.phase,
      kind: r.kind,
      iss: r.iss,
      state: r.state,
      pkceVerifier: this.open(r.launch, r.pkce_verifier),
      launchParam: r.launch_param,
      scope: r.scope,
      loginState: r.login_state,
      loginVerifier: this.open(r.launch, r.login_verifier),
      loginNonce: this.open(r.launch, r.login_nonce),
      csrf: r.csrf,
      user: user ? (JSON.parse(user) as Record<string, unknown>) : null,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    };
  }

  /** Creates a session; returns the opaque id for the cookie. */
  async create(s: NewSession): Promise<string> {
    const id = randomToken();
    const now = this.now();
    await this.sql.run(
      `INSERT INTO smart_launch_sessions (id_hash, launch, phase, kind, iss, launch_param, scope, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [hashId(id), s.launch, s.phase, s.kind, s.iss, s.launchParam ?? null, s.scope, now, now + s.ttlMs],
    );
    return id;
  }

  async get(id: string): Promise<LaunchSession | undefined> {
    const row = await this.sql.get<Row>('SELECT * FROM smart_launch_sessions WHERE id_hash = $1', [hashId(id)]);
    return row ? this.fromRow(row) : undefined;
  }

  isExpired(s: LaunchSession): boolean {
    return s.expiresAt <= this.now();
  }

  /** The EHR authorization request is about to leave: its state and PKCE verifier. */
  async authorizing(s: LaunchSession, state: string, pkceVerifier: string): Promise<void> {
    await this.sql.run(
      `UPDATE smart_launch_sessions SET state = $1, pkce_verifier = $2 WHERE id_hash = $3 AND phase = 'authorize'`,
      [state, this.seal(s.launch, pkceVerifier), s.idHash],
    );
  }

  /** Consumes the authorization state: true once, for the browser that holds the session. */
  async consumeState(idHash: string, state: string, next: LaunchPhase): Promise<boolean> {
    // Single use: only a row still in the expected phase, with the expected state, moves on.
    return (await this.sql.run(
      `UPDATE smart_launch_sessions SET phase = $1, state = NULL, pkce_verifier = NULL
       WHERE id_hash = $2 AND phase = 'authorize' AND state = $3 AND expires_at > $4`,
      [next, idHash, state, this.now()],
    )) === 1;
  }

  /** The login is waiting for the IdP's callback. */
  async loginStarted(s: LaunchSession, fields: { loginState: string; loginVerifier: string; loginNonce: string }): Promise<void> {
    await this.sql.run(
      `UPDATE smart_launch_sessions SET login_state = $1, login_verifier = $2, login_nonce = $3 WHERE id_hash = $4 AND phase = 'login'`,
      [fields.loginState, this.seal(s.launch, fields.loginVerifier), this.seal(s.launch, fields.loginNonce), s.idHash],
    );
  }

  /** The login form is waiting, with its CSRF token. */
  async formShown(s: LaunchSession, csrf: string): Promise<void> {
    await this.sql.run(`UPDATE smart_launch_sessions SET csrf = $1 WHERE id_hash = $2 AND phase = 'login'`, [csrf, s.idHash]);
  }

  /**
   * The user signed in: login → authorize, once (the IdP's state, when given, must still be the
   * session's). The login's secrets are dropped; the user's claims are kept, sealed.
   */
  async loggedIn(s: LaunchSession, user: Record<string, unknown>, loginState?: string): Promise<boolean> {
    const args: unknown[] = [this.seal(s.launch, JSON.stringify(user)), s.idHash, this.now()];
    if (loginState !== undefined) args.push(loginState);
    return (await this.sql.run(
      `UPDATE smart_launch_sessions SET phase = 'authorize', user_claims = $1, login_state = NULL, login_verifier = NULL, login_nonce = NULL, csrf = NULL
       WHERE id_hash = $2 AND phase = 'login' AND expires_at > $3${loginState === undefined ? '' : ' AND login_state = $4'}`,
      args,
    )) === 1;
  }

  /** Takes the IdP's state so it cannot be used twice (a failed login ends the launch). */
  async consumeLoginState(idHash: string, loginState: string): Promise<boolean> {
    return (await this.sql.run(
      `UPDATE smart_launch_sessions SET login_state = NULL WHERE id_hash = $1 AND phase = 'login' AND expires_at > $2 AND login_state = $3`,
      [idHash, this.now(), loginState],
    )) === 1;
  }

  /** Ends a launch: every secret of the handshake and the user's claims are dropped. */
  async finish(idHash: string, phase: 'done' | 'failed'): Promise<void> {
    await this.sql.run(`UPDATE smart_launch_sessions SET phase = $1, ${WIPE} WHERE id_hash = $2`, [phase, idHash]);
  }

  /**
   * Wipes the secrets of sessions whose state has expired (abandoned launches) and deletes rows
   * expired longer than `graceMs` ago (kept meanwhile so a late browser hears "expired", not
   * "unknown"). Returns the rows wiped and deleted.
   */
  async purge(graceMs = 0): Promise<{ wiped: number; deleted: number }> {
    const now = this.now();
    const wiped = await this.sql.run(
      `UPDATE smart_launch_sessions SET ${WIPE} WHERE expires_at <= $1 AND (pkce_verifier IS NOT NULL OR login_verifier IS NOT NULL
       OR user_claims IS NOT NULL OR csrf IS NOT NULL OR tokens IS NOT NULL OR refresh_token IS NOT NULL OR context IS NOT NULL)`,
      [now],
    );
    const deleted = await this.sql.run('DELETE FROM smart_launch_sessions WHERE expires_at < $1', [now - graceMs]);
    return { wiped, deleted };
  }
}
