// Opens the embedded SQLite database: WAL so readers never block the writer, synchronous=FULL so
// a committed transaction survives power loss, and the migrations applied.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runMigrations, type Migration } from './migrations.ts';
import { coreMigrations } from './core-migrations.ts';

export type { Database } from 'better-sqlite3';

export const DATABASE_FILE = 'hdc.sqlite';

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export interface OpenOptions {
  /** Skip migrations (a second connection to an already migrated database). */
  migrate?: boolean;
  readonly?: boolean;
  /** The migrations to apply (default: the core's; the runtime adds its modules'). */
  migrations?: readonly Migration[];
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  if (!opts.readonly) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file, { readonly: opts.readonly ?? false });
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  if (!opts.readonly && opts.migrate !== false) runMigrations(db, opts.migrations ?? coreMigrations);
  return db;
}
