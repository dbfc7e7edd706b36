// The dashboard's reads of the journal: a search over messages (sender, type, control ID, status,
// time range; newest first, paginated), one message with its workflow runs and their reports, the
// dead letters. Through the shared database: with a PostgreSQL store the cluster's journal, so
// the dashboard of any runtime finds a message another one received. The statements keep to SQL
// both databases accept; the mapped-field search is the one dialect branch (JSON access).
import { numbered, type SharedSql } from '../../../runtime/store/shared-sql.ts';

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
  id: Number(r.id), sender: r.sender, controlId: r.control_id, messageType: r.message_type, trigger: r.trigger,
  receivedAt: Number(r.received_at), status: r.status, ack: r.ack, purged: r.content_purged_at !== null,
});


/** A mapped field's value in a run's input (JSON text), as text. */
function fieldOf(sql: SharedSql, name: string): string {
  return sql.dialect === 'postgres' ? `(r.input::jsonb -> 'fields' ->> '${name}')` : `json_extract(r.input, '$.fields.${name}')`;
}

/** The newest journal rows a sender's search reads before it turns to the sender's own entries. */
export const SENDER_WINDOW = 20_000;

/**
 * Every sender in the journal, each found with one probe of the resend key (sender, control ID,
 * fingerprint) however many messages it has: a loose index scan, in SQL both databases accept.
 */
const JOURNAL_SENDERS = `WITH RECURSIVE s(sender) AS (
    SELECT MIN(sender) FROM messages
    UNION ALL SELECT (SELECT MIN(sender) FROM messages WHERE sender > s.sender) FROM s WHERE s.sender IS NOT NULL)
  SELECT sender FROM s WHERE sender IS NOT NULL`;

/**
 * One page of matching messages, newest first; `more` when another page follows. The journal has
 * no index of its own for the dashboard (each would cost every message its upkeep on the ACK
 * path); its resend key (sender, control ID, fingerprint), its primary key and received_at serve:
 * - a control ID: one probe of the resend key per sender;
 * - a sender: the newest SENDER_WINDOW rows (the primary key, backwards), which hold a page of any
 *   sender with a share of the recent traffic; else the sender's own entries in the resend key
 *   (a sender with little traffic, or a page far back);
 * - a time range: received_at; anything else: the primary key, backwards.
 */
export async function searchMessages(sql: SharedSql, f: MessageFilter, page = 0): Promise<{ rows: MessageRow[]; more: boolean }> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.type) {
    const [code, trigger] = f.type.split('^');
    where.push('m.message_type = ?');
    args.push(code);
    if (trigger) (where.push('m.trigger = ?'), args.push(trigger));
  }
  if (f.status === 'dead') where.push(`EXISTS (SELECT 1 FROM workflow_runs r WHERE r.message_id = m.id AND r.status = 'dead')`);
  else if (f.status) (where.push('m.status = ?'), args.push(f.status));
  if (f.field && FIELD_NAME.test(f.field.name)) {
    // Mapped fields live in the runs' input; a message without a workflow run has none stored.
    where.push(`EXISTS (SELECT 1 FROM workflow_runs r WHERE r.message_id = m.id AND ${fieldOf(sql, f.field.name)} = ?)`);
    args.push(f.field.value);
  }
  const ranged = f.from !== undefined || f.to !== undefined;
  if (f.from !== undefined) (where.push('m.received_at >= ?'), args.push(f.from));
  if (f.to !== undefined) (where.push('m.received_at < ?'), args.push(f.to));
  const query = (w: string[], a: unknown[]) => pageOf(sql, w, a, page);
  if (f.controlId) {
    return f.sender
      ? query(['m.sender = ?', 'm.control_id = ?', ...where], [f.sender, f.controlId, ...args])
      : query([`m.sender IN (${JOURNAL_SENDERS})`, 'm.control_id = ?', ...where], [f.controlId, ...args]);
  }
  if (!f.sender) return query(where, args);
  // SQLite would take the resend key for any sender (and sort all its messages): `+` keeps it to a filter here.
  const bySenderFilter = sql.dialect === 'sqlite' ? '+m.sender = ?' : 'm.sender = ?';
  if (ranged) return query([bySenderFilter, ...where], [f.sender, ...args]);
  const recent = await query(['m.id > (SELECT MAX(id) FROM messages) - ?', bySenderFilter, ...where], [SENDER_WINDOW, f.sender, ...args]);
  if (recent.more) return recent;
  if (where.length) return query(['m.sender = ?', ...where], [f.sender, ...args]);
  // The page's ids from the resend key alone (its entries carry them), then only those rows.
  return pageOf(sql, ['m.id IN (SELECT id FROM messages WHERE sender = ? ORDER BY id DESC LIMIT ? OFFSET ?)'], [f.sender, PAGE_SIZE + 1, page * PAGE_SIZE], 0);
}

/** One page of the messages matching every condition, newest first. */
async function pageOf(sql: SharedSql, where: string[], args: unknown[], page: number): Promise<{ rows: MessageRow[]; more: boolean }> {
  const text = `SELECT m.id, m.sender, m.control_id, m.message_type, m.trigger, m.received_at, m.status, m.ack, m.content_purged_at
    FROM messages m ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY m.id DESC LIMIT ? OFFSET ?`;
  const rows = (await sql.all<Row>(numbered(text), [...args, PAGE_SIZE + 1, page * PAGE_SIZE])).map(toRow);
  return { rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE };
}

export async function messageDetail(sql: SharedSql, id: number): Promise<MessageDetail | undefined> {
  const r = await sql.get<Row & { raw: Buffer | null; charset: string }>(`SELECT id, sender, control_id, message_type, trigger, received_at, status, ack,
    content_purged_at, raw, charset FROM messages WHERE id = $1`, [id]);
  if (!r) return undefined;
  const runIds = (await sql.all<MessageDetail['runIds'][number]>('SELECT id, workflow, status FROM workflow_runs WHERE message_id = $1 ORDER BY id', [id]))
    .map((x) => ({ ...x, id: Number(x.id) }));
  const encoding = /^(utf-?8|us-ascii|ascii)$/i.test(r.charset) || !r.charset ? 'utf8' : 'latin1';
  return { ...toRow(r), raw: r.raw ? Buffer.from(r.raw).toString(encoding) : null, charset: r.charset, runIds };
}

/** The run's message and status (for a replay's checks). */
export async function runOf(sql: SharedSql, runId: number): Promise<{ id: number; messageId: number; status: string; workflow: string } | undefined> {
  const r = await sql.get<{ id: number; message_id: number; status: string; workflow: string }>('SELECT id, message_id, status, workflow FROM workflow_runs WHERE id = $1', [runId]);
  return r && { id: Number(r.id), messageId: Number(r.message_id), status: r.status, workflow: r.workflow };
}


export interface DeadLetter {
  id: number;
  workflow: string;
  sender: string;
  messageId: number;
  error: string | null;
  updatedAt: number;
}

/** The newest dead letters. */
export async function deadLetters(sql: SharedSql, limit = 200): Promise<DeadLetter[]> {
  const rows = await sql.all<{ id: number; workflow: string; sender: string; message_id: number; error: string | null; updated_at: number }>(
    `SELECT id, workflow, sender, message_id, error, updated_at FROM workflow_runs WHERE status = 'dead' ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map((r) => ({ id: Number(r.id), workflow: r.workflow, sender: r.sender, messageId: Number(r.message_id), error: r.error, updatedAt: Number(r.updated_at) }));
}

/** How many runs are dead letters now. */
export async function deadLetterCount(sql: SharedSql): Promise<number> {
  return Number((await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM workflow_runs WHERE status = 'dead'`))?.n ?? 0);
}
