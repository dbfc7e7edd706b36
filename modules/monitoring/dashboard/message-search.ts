// The dashboard's reads of the journal: a search over messages (sender, type, control ID, status,
// time range; newest first, paginated) and one message with its workflow runs.
import type { Database } from 'better-sqlite3';

export interface MessageFilter {
  sender?: string;
  /** MSH-9.1 or MSH-9.1^MSH-9.2. */
  type?: string;
  controlId?: string;
  /** accepted | processed | rejected | failed, or dead: messages with a dead-letter run. */
  status?: string;
  from?: number;
  to?: number;
  /** Operators: a mapped field's value (what the sender's `fields` took from the message), exact. */
  field?: { name: string; value: string };
}

/** A mapped field's name as the language allows it: the only part of a JSON path built from input. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface MessageRow {
  id: number;
  sender: string;
  controlId: string;
  messageType: string;
  trigger: string;
  receivedAt: number;
  status: string;
  ack: string;
  purged: boolean;
}

export interface MessageDetail extends MessageRow {
  raw: string | null;
  charset: string;
  runIds: Array<{ id: number; workflow: string; status: string }>;
}

export const PAGE_SIZE = 50;
export const MESSAGE_STATUSES = ['accepted', 'processed', 'rejected', 'failed', 'dead'] as const;

interface Row {
  id: number; sender: string; control_id: string; message_type: string; trigger: string; received_at: number; status: string; ack: string; content_purged_at: number | null;
}

const toRow = (r: Row): MessageRow => ({
  id: r.id, sender: r.sender, controlId: r.control_id, messageType: r.message_type, trigger: r.trigger,
  receivedAt: r.received_at, status: r.status, ack: r.ack, purged: r.content_purged_at !== null,
});

/** One page of matching messages, newest first; `more` when another page follows. */
export function searchMessages(db: Database, f: MessageFilter, page = 0): { rows: MessageRow[]; more: boolean } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.sender) (where.push('m.sender = ?'), args.push(f.sender));
  if (f.type) {
    const [code, trigger] = f.type.split('^');
    where.push('m.message_type = ?');
    args.push(code);
    if (trigger) (where.push('m.trigger = ?'), args.push(trigger));
  }
  if (f.controlId) (where.push('m.control_id = ?'), args.push(f.controlId));
  if (f.status === 'dead') where.push(`EXISTS (SELECT 1 FROM workflow_runs r WHERE r.message_id = m.id AND r.status = 'dead')`);
  else if (f.status) (where.push('m.status = ?'), args.push(f.status));
  if (f.field && FIELD_NAME.test(f.field.name)) {
    // Mapped fields live in the runs' input; a message without a workflow run has none stored.
    where.push(`EXISTS (SELECT 1 FROM workflow_runs r WHERE r.message_id = m.id AND json_extract(r.input, '$.fields.${f.field.name}') = ?)`);
    args.push(f.field.value);
  }
  if (f.from !== undefined) (where.push('m.received_at >= ?'), args.push(f.from));
  if (f.to !== undefined) (where.push('m.received_at < ?'), args.push(f.to));
  const sql = `SELECT m.id, m.sender, m.control_id, m.message_type, m.trigger, m.received_at, m.status, m.ack, m.content_purged_at
    FROM messages m ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY m.id DESC LIMIT ? OFFSET ?`;
  const rows = (db.prepare(sql).all(...args, PAGE_SIZE + 1, page * PAGE_SIZE) as Row[]).map(toRow);
  return { rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE };
}

export function messageDetail(db: Database, id: number): MessageDetail | undefined {
  const r = db.prepare('SELECT *, content_purged_at FROM messages WHERE id = ?').get(id) as (Row & { raw: Buffer | null; charset: string }) | undefined;
  if (!r) return undefined;
  const runIds = db.prepare('SELECT id, workflow, status FROM workflow_runs WHERE message_id = ? ORDER BY id').all(id) as MessageDetail['runIds'];
  const encoding = /^(utf-?8|us-ascii|ascii)$/i.test(r.charset) || !r.charset ? 'utf8' : 'latin1';
  return { ...toRow(r), raw: r.raw ? Buffer.from(r.raw).toString(encoding) : null, charset: r.charset, runIds };
}

/** The run's message and status (for a replay's checks). */
export function runOf(db: Database, runId: number): { id: number; messageId: number; status: string; workflow: string } | undefined {
  return db.prepare('SELECT id, message_id AS messageId, status, workflow FROM workflow_runs WHERE id = ?').get(runId) as
    { id: number; messageId: number; status: string; workflow: string } | undefined;
}
