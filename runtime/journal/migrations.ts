// Applies schema migrations: each id once, in list order, recorded in schema_migrations. The
// lists are explicit (core-migrations.ts, then each loaded module's), never registered by import
// side effects, so what a database gets does not depend on which files happened to be imported.
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** Unique and stable forever, e.g. "journal/001-messages". */
  id: string;
  up: string | ((db: Database) => void);
  /**
   * Rebuilds a table other tables reference: foreign keys are switched off around its
   * transaction (SQLite allows that only outside one) and checked before it commits.
   */
  rebuildsReferencedTable?: boolean;
  /**
   * The table is shared by every runtime of a cluster (runtime/store/shared-sql.ts): this is its
   * PostgreSQL form, applied to the PostgreSQL store instead when the runtime uses one.
   */
  postgres?: string;
}

/** The PostgreSQL forms of the shared tables among `list`. */
export function sharedTables(list: readonly Migration[]): Array<{ id: string; up: string }> {
  return list.flatMap((m) => (m.postgres ? [{ id: m.id, up: m.postgres }] : []));
}

export function runMigrations(db: Database, list: readonly Migration[]): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id));
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  const applied: string[] = [];
  for (const m of list) {
    if (done.has(m.id)) continue;
    const foreignKeys = m.rebuildsReferencedTable && db.pragma('foreign_keys', { simple: true }) === 1;
    if (foreignKeys) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (typeof m.up === 'string') db.exec(m.up);
        else m.up(db);
        if (m.rebuildsReferencedTable && (db.pragma('foreign_key_check') as unknown[]).length) {
          throw new Error(`migration ${m.id} left rows whose foreign keys point nowhere`);
        }
        record.run(m.id, Date.now());
      }).immediate();
    } finally {
      if (foreignKeys) db.pragma('foreign_keys = ON');
    }
    applied.push(m.id);
  }
  return applied;
}
