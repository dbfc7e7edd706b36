// The engine's tables: one row per finished (or last failed) step of a run, so a restarted run
// resumes at its first unfinished step; and the named collections `store` writes to. Times are
// epoch milliseconds, values JSON.
import type { Migration } from '../journal/migrations.ts';

export const engineMigrations: readonly Migration[] = [
  {
    id: 'engine/001-run-steps',
    up: `
      CREATE TABLE run_steps (
        run_id      INTEGER NOT NULL,
        path        TEXT    NOT NULL,
        step_id     TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('done','failed')),
        result      TEXT,
        attempt     INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        error       TEXT,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;
    `,
  },

  {
    id: 'engine/002-stored-records',
    up: `
      CREATE TABLE stored_records (
        id          INTEGER PRIMARY KEY,
        collection  TEXT    NOT NULL,
        key         TEXT,
        value       TEXT    NOT NULL,
        run_id      INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX stored_records_key ON stored_records (collection, key) WHERE key IS NOT NULL;
      CREATE INDEX stored_records_collection ON stored_records (collection, id);
    `,
  },

  // Ready queued runs are taken in journal order: (status, id) lets that read stop after a page
  // instead of sorting the whole backlog.
  {
    id: 'engine/003-queue-order',
    up: `CREATE INDEX engine_runs_status_id ON workflow_runs (status, id);`,
  },

  // Every attempt of a run, as it ended: done, rejected, failed (and when the next try is due),
  // dead, or interrupted (the process died). `hdc runs show` lists them; nothing is overwritten.
  // Replays are recorded with who asked for them, so the history reads in order.
  {
    id: 'engine/004-run-attempts',
    up: `
      CREATE TABLE run_attempts (
        run_id          INTEGER NOT NULL,
        attempt         INTEGER NOT NULL,
        started_at      INTEGER NOT NULL,
        finished_at     INTEGER NOT NULL,
        status          TEXT    NOT NULL,
        step_path       TEXT,
        api             TEXT,
        http_status     INTEGER,
        error           TEXT,
        next_attempt_at INTEGER,
        PRIMARY KEY (run_id, attempt, finished_at)
      ) WITHOUT ROWID;
      CREATE TABLE run_replays (
        run_id        INTEGER NOT NULL,
        at            INTEGER NOT NULL,
        by            TEXT    NOT NULL,
        after_attempt INTEGER NOT NULL,
        from_start    INTEGER NOT NULL,
        PRIMARY KEY (run_id, at, after_attempt)
      ) WITHOUT ROWID;
    `,
  },
];
