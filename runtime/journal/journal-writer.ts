// The journal's write side: synchronous SQL over one connection, one transaction per batch.
// Runs inside the journal worker thread (or inline on the main thread); the group committer
// decides what goes into a batch.
import type { Database, Statement, Transaction } from 'better-sqlite3';

export interface JournalRun {
  workflow: string;
  orderKey: string | null;
  /** JSON text of RunInput. */
  input: string;
}

export interface JournalEntry {
  sender: string;
  controlId: string;
  messageType: string;
  trigger: string;
  receivedAt: number;
  /** The message's bytes exactly as received. */
  raw: Uint8Array;
  charset: string;
  status: 'accepted';
  /** The ACK text sent when the commit succeeds. */
  ack: string;
  runs: JournalRun[];
}

export type JournalResult =
  | { kind: 'stored'; messageId: number; runIds: number[] }
  | { kind: 'duplicate'; messageId: number; ack: string; status: string };

export class JournalWriter {
  private readonly findMessage: Statement<[string, string], { id: number; ack: string; status: string }>;
  private readonly insertMessage: Statement;
  private readonly insertRun: Statement;
  private readonly setAck: Statement;
  private readonly purgeMessages: Statement;
  private readonly purgeInputs: Statement;
  private readonly batch: Transaction<(entries: JournalEntry[]) => JournalResult[]>;

  constructor(db: Database) {
    this.findMessage = db.prepare('SELECT id, ack, status FROM messages WHERE sender = ? AND control_id = ?');
    this.insertMessage = db.prepare(
      // A resend conflicts on (sender, control_id) and inserts nothing: one index probe instead of
      // a SELECT before every INSERT; only a duplicate pays for reading the stored row.
      `INSERT INTO messages (sender, control_id, message_type, trigger, received_at, raw, charset, status, ack)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender, control_id) DO NOTHING`,
    );
    this.insertRun = db.prepare(
      `INSERT INTO workflow_runs (message_id, sender, workflow, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)`,
    );
    this.setAck = db.prepare('UPDATE messages SET ack = ?, status = ? WHERE id = ?');
    this.purgeMessages = db.prepare(
      `UPDATE messages SET raw = NULL, content_purged_at = ? WHERE id IN (
         SELECT id FROM messages WHERE received_at < ? AND content_purged_at IS NULL LIMIT 1000)`,
    );
    this.purgeInputs = db.prepare(
      `UPDATE workflow_runs SET input = NULL WHERE id IN (
         SELECT id FROM workflow_runs WHERE created_at < ? AND input IS NOT NULL AND status IN ('done','rejected') LIMIT 1000)`,
    );
    this.batch = db.transaction((entries: JournalEntry[]) => entries.map((e) => this.writeOne(e)));
  }

  private writeOne(e: JournalEntry): JournalResult {
    const inserted = this.insertMessage.run(e.sender, e.controlId, e.messageType, e.trigger, e.receivedAt, e.raw, e.charset, e.status, e.ack);
    if (inserted.changes === 0) {
      const existing = this.findMessage.get(e.sender, e.controlId)!;
      return { kind: 'duplicate', messageId: existing.id, ack: existing.ack, status: existing.status };
    }
    const messageId = Number(inserted.lastInsertRowid);
    const runIds = e.runs.map((r) =>
      Number(this.insertRun.run(messageId, e.sender, r.workflow, r.orderKey, r.input, e.receivedAt, e.receivedAt, e.receivedAt).lastInsertRowid),
    );
    return { kind: 'stored', messageId, runIds };
  }

  /** Writes every entry in one transaction (one fsync); duplicates within or before it resolve to the first. */
  writeBatch(entries: JournalEntry[]): JournalResult[] {
    // Rows whose raw arrived through structured clone are plain Uint8Arrays; SQLite wants Buffers.
    for (const e of entries) if (!Buffer.isBuffer(e.raw)) e.raw = Buffer.from(e.raw.buffer, e.raw.byteOffset, e.raw.byteLength);
    // IMMEDIATE takes the write lock up front (waiting busy_timeout): a deferred transaction that read
    // first fails at once with SQLITE_BUSY when another connection (the engine) committed meanwhile.
    return this.batch.immediate(entries);
  }

  /** Records the final ACK of an `ack after_workflow` message. */
  updateAck(messageId: number, ack: string, status: string): void {
    this.setAck.run(ack, status, messageId);
  }

  /** Drops message content received before `cutoff` (epoch ms); metadata rows stay. */
  purgeContent(cutoff: number, now = Date.now()): number {
    let total = 0;
    for (;;) {
      const n = this.purgeMessages.run(now, cutoff).changes + this.purgeInputs.run(cutoff).changes;
      total += n;
      if (n === 0) return total;
    }
  }
}
