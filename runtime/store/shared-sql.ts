// The tables every runtime of a cluster must see alike (SMART launch sessions, the login form's
// users, Bulk export state): in PostgreSQL when the store is PostgreSQL, in the runtime's SQLite
// file otherwise. Statements are written once with `$1…$n` placeholders, which both databases
// accept, and keep to the SQL the two share (no RETURNING-less upserts, no dialect functions).
import type { Database } from 'better-sqlite3';

export interface SqlStatements {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Resolves to the number of rows changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
}

export interface SharedSql extends SqlStatements {
  /**
   * Runs `fn`'s statements in one transaction (one pooled client on PostgreSQL; on SQLite one
   * `BEGIN IMMEDIATE`, transactions on a connection taking turns): committed when `fn` resolves,
   * rolled back when it throws. Only `tx` may be used inside.
   */
  transaction<T>(fn: (tx: SqlStatements) => Promise<T>): Promise<T>;
}

/** `?` placeholders numbered `$1…$n` (statements shared with the SQLite-only code use `?`). */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** SQLite binds `$1` as the parameter named "1". */
function named(params: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  params.forEach((p, i) => (out[i + 1] = p));
  return out;
}

/**
 * Transactions on one SQLite connection, one at a time (an `await` inside one lets other code
 * run), and `outside(fn)`: a statement that must not join the open transaction waits for it.
 */
export function sqliteTransactions(db: Database): { transaction<T>(fn: () => Promise<T>): Promise<T>; outside<T>(fn: () => T): Promise<T> } {
  let tail: Promise<unknown> = Promise.resolve();
  let open = false;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  return {
    transaction<T>(fn: () => Promise<T>): Promise<T> {
      const turn = tail.then(async () => {
        begin.run();
        open = true;
        try {
          const out = await fn();
          commit.run();
          return out;
        } catch (err) {
          if (db.inTransaction) rollback.run();
          throw err;
        } finally {
          open = false;
        }
      });
      tail = turn.catch(() => undefined);
      return turn;
    },
    outside<T>(fn: () => T): Promise<T> {
      if (!open) {
        try {
          return Promise.resolve(fn());
        } catch (err) {
          return Promise.reject(err);
        }
      }
      const turn = tail.then(fn);
      tail = turn.catch(() => undefined);
      return turn;
    },
  };
}

const perConnection = new WeakMap<Database, SharedSql>();

/** The connection's SharedSql (one per connection, so that its transactions take turns). */
export function sqliteSql(db: Database): SharedSql {
  let sql = perConnection.get(db);
  if (!sql) perConnection.set(db, (sql = createSqliteSql(db)));
  return sql;
}

function createSqliteSql(db: Database): SharedSql {
  const statements = new Map<string, ReturnType<Database['prepare']>>();
  const prepared = (text: string) => {
    let s = statements.get(text);
    if (!s) statements.set(text, (s = db.prepare(text)));
    return s;
  };
  const serial = sqliteTransactions(db);
  const inside: SqlStatements = {
    dialect: 'sqlite',
    all: async <T>(text: string, params: readonly unknown[] = []) => prepared(text).all(named(params)) as T[],
    get: async <T>(text: string, params: readonly unknown[] = []) => prepared(text).get(named(params)) as T | undefined,
    run: async (text, params = []) => prepared(text).run(named(params)).changes,
  };
  return {
    ...inside,
    // Reads see the open transaction's rows (one connection); a write waits for it to end, so a rollback cannot take it along.
    run: (text, params = []) => serial.outside(() => prepared(text).run(named(params)).changes),
    transaction: (fn) => serial.transaction(() => fn(inside)),
  };
}
