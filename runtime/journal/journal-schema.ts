// The journal's tables: received messages (raw bytes as received, the ACK sent) and the workflow
// queue the engine consumes. Times are epoch milliseconds.
import type { Migration } from './migrations.ts';
import { backfillResendKeys } from './resend-key-backfill.ts';

export type MessageStatus = 'accepted' | 'processed' | 'rejected' | 'failed';
export type RunStatus = 'queued' | 'running' | 'done' | 'rejected' | 'failed' | 'dead';

/** The JSON stored in workflow_runs.input. */
export interface RunInput {
  fields: Record<string, unknown>;
  message: { type: string; trigger: string; controlId: string; version: string; receivedAt: number; sender: string };
}

/** The JSON stored in workflow_runs.outcome, e.g. { code: 'AE', text: 'unknown patient' }. */
export interface RunOutcome {
  code?: 'AA' | 'AE' | 'AR';
  text?: string;
  [key: string]: unknown;
}

export const journalMigrations: readonly Migration[] = [
  {
    id: 'journal/001-messages',
    up: `
      CREATE TABLE messages (
        id                INTEGER PRIMARY KEY,
        sender            TEXT    NOT NULL,
        control_id        TEXT    NOT NULL,
        message_type      TEXT    NOT NULL,
        trigger           TEXT    NOT NULL,
        received_at       INTEGER NOT NULL,
        raw               BLOB,
        charset           TEXT    NOT NULL,
        status            TEXT    NOT NULL,
        ack               TEXT    NOT NULL,
        content_purged_at INTEGER,
        UNIQUE (sender, control_id)
      );
      CREATE INDEX messages_received_at ON messages (received_at);
    `,
  },

  {
    id: 'journal/002-workflow-runs',
    up: `
      CREATE TABLE workflow_runs (
        id              INTEGER PRIMARY KEY,
        message_id      INTEGER NOT NULL REFERENCES messages (id),
        sender          TEXT    NOT NULL,
        workflow        TEXT    NOT NULL,
        order_key       TEXT,
        status          TEXT    NOT NULL CHECK (status IN ('queued','running','done','rejected','failed','dead')),
        input           TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        outcome         TEXT,
        error           TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      );
      CREATE INDEX workflow_runs_ready ON workflow_runs (status, next_attempt_at);
      CREATE INDEX workflow_runs_message ON workflow_runs (message_id);
      CREATE INDEX workflow_runs_order ON workflow_runs (workflow, order_key, id);
    `,
  },

  // A message is identified by (sender, control ID, fingerprint), not (sender, control ID): a
  // different message that reuses a control ID is journaled too (reuse_of names the earlier one
  // from the same sending system). SQLite cannot drop a UNIQUE constraint, so the table is rebuilt.
  {
    id: 'journal/003-resend-key',
    rebuildsReferencedTable: true,
    up: (db) => {
      db.exec(`
        CREATE TABLE messages_new (
          id                INTEGER PRIMARY KEY,
          sender            TEXT    NOT NULL,
          control_id        TEXT    NOT NULL,
          sending_system    TEXT    NOT NULL DEFAULT '',
          content_hash      TEXT,
          reuse_of          INTEGER,
          message_type      TEXT    NOT NULL,
          trigger           TEXT    NOT NULL,
          received_at       INTEGER NOT NULL,
          raw               BLOB,
          charset           TEXT    NOT NULL,
          status            TEXT    NOT NULL,
          ack               TEXT    NOT NULL,
          content_purged_at INTEGER,
          UNIQUE (sender, control_id, content_hash)
        );
        INSERT INTO messages_new (id, sender, control_id, message_type, trigger, received_at, raw, charset, status, ack, content_purged_at)
          SELECT id, sender, control_id, message_type, trigger, received_at, raw, charset, status, ack, content_purged_at FROM messages;
        DROP TABLE messages;
        ALTER TABLE messages_new RENAME TO messages;
        CREATE INDEX messages_received_at ON messages (received_at);
      `);
      backfillResendKeys(db);
    },
  },
];
