// Connection pools to the PostgreSQL store. bigint columns (ids, epoch milliseconds) come back as
// numbers: every value the store keeps fits in 2^53.
import pg from 'pg';

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PoolOptions {
  url: string;
  max?: number;
  /** 'on' (journal: a commit is on disk before the ACK) or 'off' (engine steps, see pg-engine.ts). */
  synchronousCommit?: 'on' | 'off';
  applicationName?: string;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 4,
    application_name: opts.applicationName ?? 'hdc',
    options: `-c synchronous_commit=${opts.synchronousCommit ?? 'on'}`,
  });
  // An idle client's connection failing (database restart) must not crash the process; the pool
  // replaces it and the next query reports the error where it can be handled.
  pool.on('error', () => {});
  return pool;
}

/** BEGIN … COMMIT on one pooled client; ROLLBACK when `fn` throws. */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
