// The module's tables. An export's state is all here, so a restarted runtime continues where the
// last one stopped: the poll URL (written before anything else happens after the 202), the
// manifest, and per file the lines already handed to workflows. The tables are shared (a
// `postgres` form): on a PostgreSQL store every runtime of the cluster sees the same exports, and
// the lease columns (002) say which runtime runs each one.
import type { Migration } from '../../runtime/journal/migrations.ts';

export const migrations: readonly Migration[] = [
  {
    id: 'bulk/001-exports',
    up: `
      CREATE TABLE bulk_exports (
        id               TEXT    PRIMARY KEY,
        name             TEXT    NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN ('requested','kickoff','polling','downloading','done','failed','cancelled')),
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        requested_by     TEXT    NOT NULL,
        kickoff_url      TEXT,
        poll_url         TEXT,
        since            TEXT,
        progress         TEXT,
        transaction_time TEXT,
        requires_token   INTEGER NOT NULL DEFAULT 0,
        next_manifest    TEXT,
        source_id        INTEGER,
        files            INTEGER NOT NULL DEFAULT 0,
        files_done       INTEGER NOT NULL DEFAULT 0,
        resources        INTEGER NOT NULL DEFAULT 0,
        bytes            INTEGER NOT NULL DEFAULT 0,
        bytes_total      INTEGER,
        errors           INTEGER NOT NULL DEFAULT 0,
        error            TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        finished_at      INTEGER
      );
      CREATE INDEX bulk_exports_name ON bulk_exports (name, created_at);
      CREATE INDEX bulk_exports_status ON bulk_exports (status);
      CREATE TABLE bulk_files (
        export_id  TEXT    NOT NULL REFERENCES bulk_exports (id),
        idx        INTEGER NOT NULL,
        kind       TEXT    NOT NULL CHECK (kind IN ('output','error','deleted')),
        type       TEXT    NOT NULL,
        url        TEXT    NOT NULL,
        count      INTEGER,
        lines      INTEGER NOT NULL DEFAULT 0,
        bytes      INTEGER NOT NULL DEFAULT 0,
        resources  INTEGER NOT NULL DEFAULT 0,
        status     TEXT    NOT NULL CHECK (status IN ('pending','done','failed')),
        error      TEXT,
        PRIMARY KEY (export_id, idx)
      );
      CREATE TABLE bulk_errors (
        id        INTEGER PRIMARY KEY,
        export_id TEXT    NOT NULL REFERENCES bulk_exports (id),
        file_idx  INTEGER,
        line      INTEGER,
        reason    TEXT    NOT NULL,
        at        INTEGER NOT NULL
      );
      CREATE INDEX bulk_errors_export ON bulk_errors (export_id);
    `,
    postgres: `
      CREATE TABLE bulk_exports (
        id               text    PRIMARY KEY,
        name             text    NOT NULL,
        status           text    NOT NULL CHECK (status IN ('requested','kickoff','polling','downloading','done','failed','cancelled')),
        cancel_requested integer NOT NULL DEFAULT 0,
        requested_by     text    NOT NULL,
        kickoff_url      text,
        poll_url         text,
        since            text,
        progress         text,
        transaction_time text,
        requires_token   integer NOT NULL DEFAULT 0,
        next_manifest    text,
        source_id        bigint,
        files            integer NOT NULL DEFAULT 0,
        files_done       integer NOT NULL DEFAULT 0,
        resources        bigint  NOT NULL DEFAULT 0,
        bytes            bigint  NOT NULL DEFAULT 0,
        bytes_total      bigint,
        errors           integer NOT NULL DEFAULT 0,
        error            text,
        created_at       bigint  NOT NULL,
        updated_at       bigint  NOT NULL,
        finished_at      bigint
      );
      CREATE INDEX bulk_exports_name ON bulk_exports (name, created_at);
      CREATE INDEX bulk_exports_status ON bulk_exports (status);
      CREATE TABLE bulk_files (
        export_id  text    NOT NULL REFERENCES bulk_exports (id),
        idx        integer NOT NULL,
        kind       text    NOT NULL CHECK (kind IN ('output','error','deleted')),
        type       text    NOT NULL,
        url        text    NOT NULL,
        count      integer,
        lines      bigint  NOT NULL DEFAULT 0,
        bytes      bigint  NOT NULL DEFAULT 0,
        resources  bigint  NOT NULL DEFAULT 0,
        status     text    NOT NULL CHECK (status IN ('pending','done','failed')),
        error      text,
        PRIMARY KEY (export_id, idx)
      );
      CREATE TABLE bulk_errors (
        id        bigserial PRIMARY KEY,
        export_id text    NOT NULL REFERENCES bulk_exports (id),
        file_idx  integer,
        line      bigint,
        reason    text    NOT NULL,
        at        bigint  NOT NULL
      );
      CREATE INDEX bulk_errors_export ON bulk_errors (export_id);
    `,
  },
  {
    // The runtime running an export holds its lease until lease_until (epoch ms), renewing it.
    id: 'bulk/002-lease',
    up: `
      ALTER TABLE bulk_exports ADD COLUMN owner TEXT;
      ALTER TABLE bulk_exports ADD COLUMN lease_until INTEGER;
    `,
    postgres: `
      ALTER TABLE bulk_exports ADD COLUMN owner text;
      ALTER TABLE bulk_exports ADD COLUMN lease_until bigint;
    `,
  },
];
