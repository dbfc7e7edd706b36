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

/** What a sender wants done with a message that reuses a control ID (`control_id_reuse`). */
export type ControlIdReuse = 'accept' | 'reject';

export interface JournalEntry {
  sender: string;
  controlId: string;
  /** MSH-3 and MSH-4 as written, joined by the field separator: the system that numbered MSH-10. */
  sendingSystem: string;
  /** The message's fingerprint with MSH-7 and MSH-10 blanked (message-fingerprint.ts). */
  contentHash: string;
  /** accept: a reused control ID is a new message; reject: it is refused and not journaled. */
  onReuse: ControlIdReuse;
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
  /**
   * The sender waits for the workflow's outcome in its ACK (`ack after_workflow`): on a shared
   * store the runs stay with the runtime holding the sender's connection while it is alive.
   */
  awaitsOutcome?: boolean;
}

export type JournalResult =
  /** reuseOf: an earlier message from the same sending system with this control ID and other content. */
  | { kind: 'stored'; messageId: number; runIds: number[]; reuseOf: number | null }
  /** A resend: the stored ACK and status of the message it repeats. */
  | { kind: 'duplicate'; messageId: number; ack: string; status: string }
  /** A reused control ID from a sender with `control_id_reuse reject`: nothing was written. */
  | { kind: 'reuse-refused'; reuseOf: number };

export class JournalWriter {
  private readonly findMessage: Statement<[string, string, string], { id: number; ack: string; status: string }>;
  private readonly findReuse: Statement<[string, string, string, string], { id: number }>;
  private readonly insertMessage: Statement;
  private readonly reuseOfInserted: Statement<[number], number | null>;
  private readonly insertRun: Statement;
  private readonly setAck: Statement;
  private readonly purgeMessages: Statement;
  private readonly purgeInputs: Statement;
  private readonly batch: Transaction<(entries: JournalEntry[]) => JournalResult[]>;

  constructor(db: Database) {
    this.findMessage = db.prepare('SELECT id, ack, status FROM messages WHERE sender = ? AND control_id = ? AND content_hash = ?');
    this.findReuse = db.prepare(
      'SELECT id FROM messages WHERE sender = ? AND control_id = ? AND sending_system = ? AND content_hash <> ? LIMIT 1',
    );
    this.insertMessage = db.prepare(
      // A resend (same sender, control ID and fingerprint, hence the same MSH-3/MSH-4) conflicts and
      // inserts nothing: one index probe instead of a SELECT before every INSERT. The subquery, a
      // probe on the same index's prefix, records an earlier message from the same sending system
      // that this one reuses the control ID of. A resend then reads the row it repeats.
      `INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack, reuse_of)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
         (SELECT id FROM messages WHERE sender = ? AND control_id = ? AND sending_system = ? AND content_hash <> ? LIMIT 1))
       ON CONFLICT (sender, control_id, content_hash) DO NOTHING`,
    );
    // The new row's reuse_of, read back by rowid from the page just written: measured cheaper than
    // RETURNING, which buffers its rows in a temporary table.
    this.reuseOfInserted = db.prepare<[number], number | null>('SELECT reuse_of FROM messages WHERE id = ?').pluck() as Statement<[number], number | null>;
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
    if (e.onReuse === 'reject') {
      // Opt-in, so it may read first: a resend still gets its ACK, a reuse is refused unwritten.
      const refused = this.resendOrReuse(e);
      if (refused) return refused;
    }
    const inserted = this.insertMessage.run(
      e.sender, e.controlId, e.sendingSystem, e.contentHash, e.messageType, e.trigger, e.receivedAt, e.raw, e.charset, e.status, e.ack,
      e.sender, e.controlId, e.sendingSystem, e.contentHash,
    );
    if (inserted.changes === 0) return this.resendOrReuse(e)!;
    const messageId = Number(inserted.lastInsertRowid);
    const runIds = e.runs.map((r) =>
      Number(this.insertRun.run(messageId, e.sender, r.workflow, r.orderKey, r.input, e.receivedAt, e.receivedAt, e.receivedAt).lastInsertRowid),
    );
    return { kind: 'stored', messageId, runIds, reuseOf: this.reuseOfInserted.get(messageId) ?? null };
  }

  /** The stored message `e` resends, else the one whose control ID it reuses (refused), else null. */
  private resendOrReuse(e: JournalEntry): JournalResult | null {
    const existing = this.findMessage.get(e.sender, e.controlId, e.contentHash);
    if (existing) return { kind: 'duplicate', messageId: existing.id, ack: existing.ack, status: existing.status };
    const reused = this.findReuse.get(e.sender, e.controlId, e.sendingSystem, e.contentHash);
    return reused ? { kind: 'reuse-refused', reuseOf: reused.id } : null;
  }

  /** Writes every entry in one transaction (one fsync); resends within or before it resolve to the first. */
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
