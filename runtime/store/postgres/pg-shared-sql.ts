// SharedSql on the PostgreSQL store's pool (see ../shared-sql.ts).
import type pg from 'pg';
import type { SharedSql, SqlStatements } from '../shared-sql.ts';
import { pgTransaction } from './pg-pool.ts';

/** The statements of one client (a transaction's). */
export function clientStatements(client: pg.PoolClient): SqlStatements {
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params: readonly unknown[] = []) => (await client.query(text, [...params])).rows as T[],
    get: async <T>(text: string, params: readonly unknown[] = []) => (await client.query(text, [...params])).rows[0] as T | undefined,
    run: async (text, params = []) => (await client.query(text, [...params])).rowCount ?? 0,
  };
}

export function postgresSql(pool: pg.Pool): SharedSql {
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params: readonly unknown[] = []) => (await pool.query(text, [...params])).rows as T[],
    get: async <T>(text: string, params: readonly unknown[] = []) => (await pool.query(text, [...params])).rows[0] as T | undefined,
    run: async (text, params = []) => (await pool.query(text, [...params])).rowCount ?? 0,
    transaction: (fn) => pgTransaction(pool, (client) => fn(clientStatements(client))),
  };
}
