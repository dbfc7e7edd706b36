// Workflow runs a module starts (Bulk FHIR's resources) rather than an HL7 message. The queue's
// rows reference a journal message, so each source (one export) is one `messages` row standing
// for it: the module's sender name, its key as the control ID, no content. A module enqueues
// inside its own transaction (`transaction(fn)`: the module's statements and its runs on one
// connection), so its progress and the runs it started commit together and nothing is started
// twice after a crash; the engine is woken once the transaction committed.
// This file is the SQLite store's; runtime/store/postgres/pg-module-runs.ts is PostgreSQL's.
import type { Database, Statement } from 'better-sqlite3';
import type { RunEvents } from '../journal/run-events.ts';
import type { RunInput } from '../journal/journal-schema.ts';
import { sqliteSql, type SqlStatements } from '../store/shared-sql.ts';

export interface ModuleRun {
  workflow: string;
  /** The run's input as JSON text (a RunInput); the module may write it without re-serialising. */
  input: string;
  orderKey?: string | null;
}

/** A transaction of a module: its own statements, and runs queued in the same commit. */
export interface ModuleRunTx extends SqlStatements {
  /** Queues runs of one source; resolves with their ids (in order). */
  enqueue(source: number, sender: string, runs: readonly ModuleRun[], now?: number): Promise<number[]>;
}

export interface ModuleRuns {
  readonly dialect: 'sqlite' | 'postgres';
  /** The row standing for one source of runs (created once): `sender` e.g. "bulk/nightly", `key` e.g. the export id. */
  source(sender: string, key: string, kind: string, at?: number): Promise<number>;
  /** Commits `fn`'s statements and runs together (rolled back if it throws), then wakes the engines. */
  transaction<T>(fn: (tx: ModuleRunTx) => Promise<T>): Promise<T>;
}

/** The input of a run started by a module: its fields, and `message` describing where it came from. */
export function moduleRunInput(fields: Record<string, unknown>, message: RunInput['message']): RunInput {
  return { fields, message };
}

/** Wakes the engine (this runtime's) for the runs a transaction queued, by source. */
export function announceRuns(events: RunEvents | undefined, queued: Map<number, { sender: string; ids: number[] }>): void {
  if (!events) return;
  for (const [source, q] of queued) if (q.ids.length) events.emit('enqueued', { runIds: q.ids, messageId: source, sender: q.sender });
}

/** Module runs on a SQLite connection (the runtime's file): transactions on it take turns. */
export function sqliteModuleRuns(db: Database, events?: RunEvents): ModuleRuns {
  const sql = sqliteSql(db);
  const findSource: Statement<[string, string], { id: number }> = db.prepare("SELECT id FROM messages WHERE sender = ? AND control_id = ? AND message_type = 'MODULE'");
  const insertSource = db.prepare(
    `INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
     VALUES (?, ?, '', NULL, 'MODULE', ?, ?, NULL, 'utf-8', 'processed', '')`,
  );
  const insertRun = db.prepare(
    `INSERT INTO workflow_runs (message_id, sender, workflow, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)`,
  );
  return {
    dialect: 'sqlite',
    async source(sender, key, kind, at = Date.now()) {
      const found = findSource.get(sender, key);
      if (found) return found.id;
      return Number(insertSource.run(sender, key, kind, at).lastInsertRowid);
    },
    async transaction(fn) {
      const queued = new Map<number, { sender: string; ids: number[] }>();
      const out = await sql.transaction((statements) => fn({
        ...statements,
        // Synchronous inserts on the prepared statement: the hot path of a large export.
        async enqueue(source, sender, runs, now = Date.now()) {
          const ids = runs.map((r) => Number(insertRun.run(source, sender, r.workflow, r.orderKey ?? null, r.input, now, now, now).lastInsertRowid));
          const q = queued.get(source) ?? { sender, ids: [] };
          q.ids.push(...ids);
          queued.set(source, q);
          return ids;
        },
      }));
      announceRuns(events, queued);
      return out;
    },
  };
}
