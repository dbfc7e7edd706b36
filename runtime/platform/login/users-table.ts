// The embedded users table (`login users`): user name, scrypt password hash and claims (email,
// groups, … as JSON) in the store's shared tables (the runtime's SQLite file, or PostgreSQL for
// several runtimes), managed with `hdc users`.
import type { Migration } from '../../journal/migrations.ts';
import type { SharedSql } from '../../store/shared-sql.ts';
import { dummyHash, verifyPassword } from './password-hash.ts';
import type { Claims, FormLogin } from './login-method.ts';

export const usersMigrations: readonly Migration[] = [
  {
    id: 'login/001-users',
    up: `
      CREATE TABLE users (
        username      TEXT    PRIMARY KEY,
        password_hash TEXT    NOT NULL,
        claims        TEXT    NOT NULL DEFAULT '{}',
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE users (
        username      text   PRIMARY KEY,
        password_hash text   NOT NULL,
        claims        text   NOT NULL DEFAULT '{}',
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL
      );
    `,
  },
];

export interface UserRow {
  username: string;
  claims: Claims;
  createdAt: number;
  updatedAt: number;
}

export class UsersTable {
  constructor(private readonly sql: SharedSql) {}

  async add(username: string, passwordHash: string, claims: Claims = {}, now = Date.now()): Promise<boolean> {
    return (await this.sql.run(
      'INSERT INTO users (username, password_hash, claims, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING',
      [username, passwordHash, JSON.stringify(claims), now, now],
    )) === 1;
  }

  async setPassword(username: string, passwordHash: string, now = Date.now()): Promise<boolean> {
    return (await this.sql.run('UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3', [passwordHash, now, username])) === 1;
  }

  async setClaims(username: string, claims: Claims, now = Date.now()): Promise<boolean> {
    return (await this.sql.run('UPDATE users SET claims = $1, updated_at = $2 WHERE username = $3', [JSON.stringify(claims), now, username])) === 1;
  }

  async remove(username: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM users WHERE username = $1', [username])) === 1;
  }

  async list(): Promise<UserRow[]> {
    const rows = await this.sql.all<{ username: string; claims: string; created_at: number; updated_at: number }>(
      'SELECT username, claims, created_at, updated_at FROM users ORDER BY username',
    );
    return rows.map((r) => ({ username: r.username, claims: JSON.parse(r.claims) as Claims, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async credentials(username: string): Promise<{ passwordHash: string; claims: Claims } | undefined> {
    const r = await this.sql.get<{ password_hash: string; claims: string }>('SELECT password_hash, claims FROM users WHERE username = $1', [username]);
    return r ? { passwordHash: r.password_hash, claims: JSON.parse(r.claims) as Claims } : undefined;
  }
}

/** `login users`: the form's credentials against the users table. */
export function usersLogin(table: UsersTable): FormLogin {
  return {
    kind: 'form',
    async verify(username, password) {
      const row = await table.credentials(username);
      // Hash even for an unknown user, so response time does not reveal which names exist.
      const ok = await verifyPassword(password, row?.passwordHash ?? (await dummyHash()));
      if (!row || !ok) return null;
      return { ...row.claims, username, sub: username };
    },
  };
}
