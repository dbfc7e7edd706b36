// Workflow runs a module starts (Bulk FHIR's resources) rather than an HL7 message. The queue's
// rows reference a journal message, so each source (one export) is one `messages` row standing
// for it: the module's sender name, its key as the control ID, no content. Synchronous, on the
// main-thread connection, so a module enqueues inside its own transaction: its progress and the
// runs it started commit together, and nothing is started twice after a crash.
import type { Database, Statement } from 'better-sqlite3';
import type { RunEvents } from '../journal/run-events.ts';
import type { RunInput } from '../journal/journal-schema.ts';

export interface ModuleRun {
  workflow: string;
  /** The run's input as JSON text (a RunInput); the module may write it without re-serialising. */
  input: string;
  orderKey?: string | null;
}

export class ModuleRuns {
  private readonly findSource: Statement<[string, string], { id: number }>;
  private readonly insertSource: Statement;
  private readonly insertRun: Statement;

  constructor(db: Database, private readonly events?: RunEvents) {
    this.findSource = db.prepare("SELECT id FROM messages WHERE sender = ? AND control_id = ? AND message_type = 'MODULE'");
    this.insertSource = db.prepare(
      `INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
       VALUES (?, ?, '', NULL, 'MODULE', ?, ?, NULL, 'utf-8', 'processed', '')`,
    );
    this.insertRun = db.prepare(
      `INSERT INTO workflow_runs (message_id, sender, workflow, order_key, status, input, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'queued', ?, 0, ?, ?, ?)`,
    );
  }

  /** The row standing for one source of runs (created once): `sender` e.g. "bulk/nightly", `key` e.g. the export id. */
  source(sender: string, key: string, kind: string, at = Date.now()): number {
    const found = this.findSource.get(sender, key);
    if (found) return found.id;
    return Number(this.insertSource.run(sender, key, kind, at).lastInsertRowid);
  }

  /** Queues one run; call inside the caller's transaction, then `notify` after it commits. */
  enqueue(source: number, sender: string, run: ModuleRun, now = Date.now()): number {
    return Number(this.insertRun.run(source, sender, run.workflow, run.orderKey ?? null, run.input, now, now, now).lastInsertRowid);
  }

  /** Wakes the engine once runs committed. */
  notify(source: number, sender: string, runIds: number[]): void {
    if (runIds.length) this.events?.emit('enqueued', { runIds, messageId: source, sender });
  }

  /** The input of a run started by a module: its fields, and `message` describing where it came from. */
  static input(fields: Record<string, unknown>, message: RunInput['message']): RunInput {
    return { fields, message };
  }
}
