// The module's tables: per-minute rollups of answered messages (count, latency sum and histogram
// buckets per sender, message type and ACK code), of settled workflow runs and of SMART launches, each sender's last
// message time, the dashboard's sessions and its audit log. Times are epoch milliseconds; a
// minute is the epoch ms of its start. Every table has a PostgreSQL form: with a PostgreSQL store
// the runtimes of a cluster add into the same rollups and share sessions and the audit log.
import type { Migration } from '../../runtime/journal/migrations.ts';
import { BUCKET_COUNT } from './latency-buckets.ts';

export const bucketColumns = Array.from({ length: BUCKET_COUNT }, (_, i) => `b${i}`);

/**
 * Messages per bucket: per minute, and per hour for the day and 30-day views (which would otherwise
 * sum up to 43,200 minute rows per series). Narrow covering indexes serve the charts' series.
 */
function messageTable(name: string): string {
  return `CREATE TABLE ${name} (
        minute       INTEGER NOT NULL,
        sender       TEXT    NOT NULL,
        message_type TEXT    NOT NULL,
        ack_code     TEXT    NOT NULL,
        count        INTEGER NOT NULL,
        latency_sum  REAL    NOT NULL,
        ${bucketColumns.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(',\n        ')},
        PRIMARY KEY (minute, sender, message_type, ack_code)
      ) WITHOUT ROWID;
      CREATE INDEX ${name}_by_sender ON ${name} (minute, sender, count);
      CREATE INDEX ${name}_by_ack ON ${name} (minute, ack_code, count);`;
}

/** The same in PostgreSQL. Counts are integer: their SUM() is a bigint (a number here), where a bigint's would be a numeric (a string). */
function messageTablePg(name: string): string {
  return `CREATE TABLE ${name} (
        minute       bigint NOT NULL,
        sender       text   NOT NULL,
        message_type text   NOT NULL,
        ack_code     text   NOT NULL,
        count        integer NOT NULL,
        latency_sum  double precision NOT NULL,
        ${bucketColumns.map((c) => `${c} integer NOT NULL DEFAULT 0`).join(',\n        ')},
        PRIMARY KEY (minute, sender, message_type, ack_code)
      );
      CREATE INDEX ${name}_by_sender ON ${name} (minute, sender, count);
      CREATE INDEX ${name}_by_ack ON ${name} (minute, ack_code, count);`;
}

export const migrations: Migration[] = [
  {
    id: 'monitoring/001-rollups',
    up: `
      ${messageTable('monitoring_message_minutes')}
      ${messageTable('monitoring_message_hours')}
      CREATE TABLE monitoring_run_minutes (
        minute   INTEGER NOT NULL,
        workflow TEXT    NOT NULL,
        status   TEXT    NOT NULL,
        count    INTEGER NOT NULL,
        PRIMARY KEY (minute, workflow, status)
      ) WITHOUT ROWID;
      CREATE TABLE monitoring_senders (
        sender          TEXT PRIMARY KEY,
        last_message_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
    postgres: `
      ${messageTablePg('monitoring_message_minutes')}
      ${messageTablePg('monitoring_message_hours')}
      CREATE TABLE monitoring_run_minutes (
        minute   bigint  NOT NULL,
        workflow text    NOT NULL,
        status   text    NOT NULL,
        count    integer NOT NULL,
        PRIMARY KEY (minute, workflow, status)
      );
      CREATE TABLE monitoring_senders (
        sender          text   PRIMARY KEY,
        last_message_at bigint NOT NULL
      );
    `,
  },
  {
    id: 'monitoring/002-dashboard',
    up: `
      CREATE TABLE monitoring_sessions (
        id_hash      TEXT    PRIMARY KEY,
        username     TEXT    NOT NULL,
        role         TEXT    NOT NULL CHECK (role IN ('viewer','operator')),
        csrf         TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE monitoring_audit (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        username TEXT    NOT NULL,
        role     TEXT    NOT NULL,
        action   TEXT    NOT NULL,
        target   TEXT,
        outcome  TEXT    NOT NULL
      );
      CREATE INDEX monitoring_audit_at ON monitoring_audit (at);
    `,
    postgres: `
      CREATE TABLE monitoring_sessions (
        id_hash      text   PRIMARY KEY,
        username     text   NOT NULL,
        role         text   NOT NULL CHECK (role IN ('viewer','operator')),
        csrf         text   NOT NULL,
        created_at   bigint NOT NULL,
        last_seen_at bigint NOT NULL
      );
      CREATE TABLE monitoring_audit (
        id       bigserial PRIMARY KEY,
        at       bigint NOT NULL,
        username text   NOT NULL,
        role     text   NOT NULL,
        action   text   NOT NULL,
        target   text,
        outcome  text   NOT NULL
      );
      CREATE INDEX monitoring_audit_at ON monitoring_audit (at);
    `,
  },
  {
    // The dashboard's search: by control ID across senders, and a sender's newest messages first.
    // The two indexes on the journal's messages are dropped again by 006.
    id: 'monitoring/003-message-search',
    up: `CREATE INDEX IF NOT EXISTS monitoring_messages_control_id ON messages (control_id);
      CREATE INDEX IF NOT EXISTS monitoring_messages_sender ON messages (sender, id);`,
    // The store's own indexes serve neither search; dead letters are counted by the overview and
    // the gauges, and only the claimable runs have an index there.
    postgres: `CREATE INDEX IF NOT EXISTS monitoring_messages_control_id ON messages (control_id);
      CREATE INDEX IF NOT EXISTS monitoring_messages_sender ON messages (sender, id);
      CREATE INDEX IF NOT EXISTS monitoring_runs_dead ON workflow_runs (workflow) WHERE status = 'dead';`,
  },
  {
    // SMART launches by how they ended (the smart module's events), for the overview's panel.
    id: 'monitoring/004-launch-rollups',
    up: `
      CREATE TABLE monitoring_launch_minutes (
        minute  INTEGER NOT NULL,
        launch  TEXT    NOT NULL,
        outcome TEXT    NOT NULL,
        count   INTEGER NOT NULL,
        PRIMARY KEY (minute, launch, outcome)
      ) WITHOUT ROWID;
    `,
    postgres: `
      CREATE TABLE monitoring_launch_minutes (
        minute  bigint  NOT NULL,
        launch  text    NOT NULL,
        outcome text    NOT NULL,
        count   integer NOT NULL,
        PRIMARY KEY (minute, launch, outcome)
      );
    `,
  },
  {
    // Bulk FHIR exports as the bulk module announced them (its `bulk-export` events): the latest
    // state of each, so the overview's Exports panel outlives a restart without reading the bulk
    // module's own tables.
    id: 'monitoring/005-bulk-exports',
    up: `
      CREATE TABLE monitoring_bulk_exports (
        block      TEXT    NOT NULL,
        export_id  TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        files      INTEGER NOT NULL,
        files_done INTEGER NOT NULL,
        resources  INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        errors     INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ended_at   INTEGER,
        PRIMARY KEY (block, export_id)
      ) WITHOUT ROWID;
      CREATE INDEX monitoring_bulk_exports_recent ON monitoring_bulk_exports (block, started_at);
    `,
    postgres: `
      CREATE TABLE monitoring_bulk_exports (
        block      text    NOT NULL,
        export_id  text    NOT NULL,
        status     text    NOT NULL,
        files      integer NOT NULL,
        files_done integer NOT NULL,
        resources  bigint  NOT NULL,
        bytes      bigint  NOT NULL,
        errors     integer NOT NULL,
        started_at bigint  NOT NULL,
        updated_at bigint  NOT NULL,
        ended_at   bigint,
        PRIMARY KEY (block, export_id)
      );
      CREATE INDEX monitoring_bulk_exports_recent ON monitoring_bulk_exports (block, started_at);
    `,
  },
  {
    // Every journal insert kept the two search indexes of 003 up to date on the ACK path, the
    // largest part of the module's cost on ingest; the search finds its messages through the
    // journal's own keys instead (dashboard/message-search.ts).
    id: 'monitoring/006-search-without-journal-indexes',
    up: `DROP INDEX IF EXISTS monitoring_messages_control_id;
      DROP INDEX IF EXISTS monitoring_messages_sender;`,
    postgres: `DROP INDEX IF EXISTS monitoring_messages_control_id;
      DROP INDEX IF EXISTS monitoring_messages_sender;`,
  },
];
