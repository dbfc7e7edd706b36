// Opens the embedded SQLite database: WAL so readers never block the writer, synchronous=FULL so
// a committed transaction survives power loss, and every registered migration applied.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runMigrations } from './migrations.ts';
import './journal-schema.ts';

export type { Database } from 'better-sqlite3';

export const DATABASE_FILE = 'hdc.sqlite';

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export interface OpenOptions {
  /** Skip migrations (a second connection to an already migrated database). */
  migrate?: boolean;
  readonly?: boolean;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  if (!opts.readonly) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file, { readonly: opts.readonly ?? false });
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  if (!opts.readonly && opts.migrate !== false) runMigrations(db);
  return db;
}
