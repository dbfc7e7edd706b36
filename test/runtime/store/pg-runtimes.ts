// Runtime processes sharing one fresh PostgreSQL database, for the tests of several runtimes: the
// plan written once, each runtime on plain HTTP with a data directory of its own; stop() ends them,
// drops the database and removes the files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './pg-test-db.ts';
import { startChild, type ChildRuntime } from '../inbound/child-runtime.ts';
import type { Plan } from '../../../plan/plan.types.ts';

export interface PgRuntimes {
  db: TestDatabase;
  /** A small pool on the database, for the tests' own queries. */
  pool: pg.Pool;
  children: ChildRuntime[];
  stop(): Promise<void>;
}

/** Resolves null when no PostgreSQL server answers (the caller skips). */
export async function startPgRuntimes(name: string, plan: Plan, count: number): Promise<PgRuntimes | null> {
  const db = await createTestDatabase(name);
  if (!db) return null;
  const dir = mkdtempSync(join(tmpdir(), `hdc-${name}-`));
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {});
  const file = join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  const args = (i: number) => [file, '--insecure-http', '--port', '0', '--store', db.url, '--data', join(dir, `data-${i}`), '--log-level', 'warn'];
  const children = await Promise.all(Array.from({ length: count }, (_, i) => startChild(args(i))));
  return {
    db, pool, children,
    async stop() {
      for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.exited));
      await pool.end();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
