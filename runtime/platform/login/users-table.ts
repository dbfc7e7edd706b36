// The embedded users table (`login users`): user name, scrypt password hash and claims (email,
// groups, … as JSON) in the runtime's SQLite database, managed with `hdc users`.
import type { Database } from 'better-sqlite3';
import type { Migration } from '../../journal/migrations.ts';
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
  },
];

export interface UserRow {
  username: string;
  claims: Claims;
  createdAt: number;
  updatedAt: number;
}

export class UsersTable {
  constructor(private readonly db: Database) {}

  add(username: string, passwordHash: string, claims: Claims = {}, now = Date.now()): boolean {
    const r = this.db
      .prepare('INSERT INTO users (username, password_hash, claims, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING')
      .run(username, passwordHash, JSON.stringify(claims), now, now);
    return r.changes === 1;
  }

  setPassword(username: string, passwordHash: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?').run(passwordHash, now, username).changes === 1;
  }

  setClaims(username: string, claims: Claims, now = Date.now()): boolean {
    return this.db.prepare('UPDATE users SET claims = ?, updated_at = ? WHERE username = ?').run(JSON.stringify(claims), now, username).changes === 1;
  }

  remove(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes === 1;
  }

  list(): UserRow[] {
    const rows = this.db.prepare('SELECT username, claims, created_at, updated_at FROM users ORDER BY username').all() as Array<{
      username: string; claims: string; created_at: number; updated_at: number;
    }>;
    return rows.map((r) => ({ username: r.username, claims: JSON.parse(r.claims) as Claims, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  credentials(username: string): { passwordHash: string; claims: Claims } | undefined {
    const r = this.db.prepare('SELECT password_hash, claims FROM users WHERE username = ?').get(username) as { password_hash: string; claims: string } | undefined;
    return r ? { passwordHash: r.password_hash, claims: JSON.parse(r.claims) as Claims } : undefined;
  }
}

/** `login users`: the form's credentials against the users table. */
export function usersLogin(table: UsersTable): FormLogin {
  return {
    kind: 'form',
    async verify(username, password) {
      const row = table.credentials(username);
      // Hash even for an unknown user, so response time does not reveal which names exist.
      const ok = await verifyPassword(password, row?.passwordHash ?? (await dummyHash()));
      if (!row || !ok) return null;
      return { ...row.claims, username, sub: username };
    },
  };
}
