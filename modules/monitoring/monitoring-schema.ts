// The module's tables: per-minute rollups of answered messages (count, latency sum and histogram
// buckets per sender, message type and ACK code), of settled workflow runs and of SMART launches, each sender's last
// message time, the dashboard's sessions and its audit log. Times are epoch milliseconds; a
// minute is the epoch ms of its start.
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
  },
  {
    // The dashboard's search: by control ID across senders, and a sender's newest messages first
    // (the journal's own (sender, control ID, …) key would sort all of a sender's messages).
    id: 'monitoring/003-message-search',
    up: `CREATE INDEX IF NOT EXISTS monitoring_messages_control_id ON messages (control_id);
      CREATE INDEX IF NOT EXISTS monitoring_messages_sender ON messages (sender, id);`,
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
  },
];
