// The tables every runtime of a cluster must see alike (SMART launch sessions, the login form's
// users): in PostgreSQL when the store is PostgreSQL, in the runtime's SQLite file otherwise.
// Statements are written once with `$1…$n` placeholders, which both databases accept, and keep
// to the SQL the two share (no RETURNING-less upserts, no dialect functions).
import type { Database } from 'better-sqlite3';

export interface SharedSql {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Resolves to the number of rows changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
}

/** SQLite binds `$1` as the parameter named "1". */
function named(params: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  params.forEach((p, i) => (out[i + 1] = p));
  return out;
}

export function sqliteSql(db: Database): SharedSql {
  const statements = new Map<string, ReturnType<Database['prepare']>>();
  const prepared = (text: string) => {
    let s = statements.get(text);
    if (!s) statements.set(text, (s = db.prepare(text)));
    return s;
  };
  return {
    dialect: 'sqlite',
    all: async <T>(text: string, params: readonly unknown[] = []) => prepared(text).all(named(params)) as T[],
    get: async <T>(text: string, params: readonly unknown[] = []) => prepared(text).get(named(params)) as T | undefined,
    run: async (text, params = []) => prepared(text).run(named(params)).changes,
  };
}
