// `login postgres`: the form's credentials checked against a row of a declared PostgreSQL
// database. The block's query is parameterised (`$1` = the user name, never interpolated) and
// returns a row with `password_hash` (the scrypt format of password-hash.ts); its other columns
// become claims.
import { dummyHash, verifyPassword } from './password-hash.ts';
import { LoginUnavailableError, type Claims, type FormLogin } from './login-method.ts';

export interface PostgresLoginOptions {
  url: string;
  query: string;
  max?: number;
}

interface PgPool {
  query(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

export async function postgresLogin(opts: PostgresLoginOptions): Promise<FormLogin> {
  if (!/\$1\b/.test(opts.query)) throw new Error('the login query must take the user name as $1');
  const pg = (await import('pg')).default;
  const pool: PgPool = new pg.Pool({ connectionString: opts.url, max: opts.max ?? 4, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  return {
    kind: 'form',
    async verify(username, password) {
      let row: Record<string, unknown> | undefined;
      try {
        row = (await pool.query(opts.query, [username])).rows[0];
      } catch (err) {
        throw new LoginUnavailableError(`PostgreSQL login query failed: ${(err as { code?: string }).code ?? (err as Error).name}`, { cause: err });
      }
      const stored = typeof row?.password_hash === 'string' ? row.password_hash : undefined;
      const ok = await verifyPassword(password, stored ?? (await dummyHash()));
      if (!row || !stored || !ok) return null;
      const { password_hash: _hash, ...rest } = row;
      const claims: Claims = { username, sub: username };
      for (const [k, v] of Object.entries(rest)) claims[k] = v instanceof Date ? v.toISOString() : v;
      return claims;
    },
    close: () => pool.end(),
  };
}
