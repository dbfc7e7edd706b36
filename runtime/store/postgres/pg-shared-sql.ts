// SharedSql on the PostgreSQL store's pool (see ../shared-sql.ts).
import type pg from 'pg';
import type { SharedSql } from '../shared-sql.ts';

export function postgresSql(pool: pg.Pool): SharedSql {
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params: readonly unknown[] = []) => (await pool.query(text, [...params])).rows as T[],
    get: async <T>(text: string, params: readonly unknown[] = []) => (await pool.query(text, [...params])).rows[0] as T | undefined,
    run: async (text, params = []) => (await pool.query(text, [...params])).rowCount ?? 0,
  };
}
