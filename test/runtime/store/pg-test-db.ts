// A fresh PostgreSQL database per test file on the machine's server (127.0.0.1:5432, trust auth),
// dropped at the end. Absent server: the caller skips (skipBecause), which CI counts as a failure.
import pg from 'pg';
import { randomBytes } from 'node:crypto';

const ADMIN_URL = process.env.HDC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates the database, or resolves null when no server answers. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const name = `hdc_${prefix.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = '/' + name;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
