// Reading workflow runs back for people (`hdc runs`): lists with filters, and one run's attempts
// and steps with timings and errors. Message content (mapped fields, response bodies, stored
// values, reject text) is PHI: it is masked unless the caller asks for it. The message's type and
// control ID identify it without saying anything about the patient: they are always shown.
import type { Database } from 'better-sqlite3';
import { numbered, type SharedSql } from '../store/shared-sql.ts';
import { REJECTED_AFTER_ACK, type AttemptRow, type ReplayRow, type RunRow, type StepRow } from './run-store.ts';

export interface RunFilter {
  status?: string[];
  sender?: string;
  workflow?: string;
  /** Epoch ms: runs created at or after. */
  since?: number;
  limit?: number;
  /** Only dead letters whose workflow rejected a message already acknowledged positively. */
  rejectedAfterAck?: boolean;
}

/** Dead letters among the runs matching a filter (status aside), and how many were rejected after acknowledgement. */
export interface DeadLetterCounts {
  dead: number;
  rejectedAfterAck: number;
}

export interface RunSummary {
  id: number;
  workflow: string;
  sender: string;
  status: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  error: string | null;
  outcomeCode: string | null;
  /** MSH-9 as type^trigger, and MSH-10: not PHI, always shown. */
  messageType: string;
  controlId: string;
}

export interface AttemptReport {
  attempt: number;
  startedAt: string;
  finishedAt: string;
  status: string;
  step: string | null;
  api: string | null;
  httpStatus: number | null;
  error: string | null;
  nextAttemptAt: string | null;
}

export interface ReplayReport {
  at: string;
  by: string;
  afterAttempt: number;
  fromStart: boolean;
}

export interface StepReport {
  path: string;
  step: string;
  kind: string;
  status: string;
  attempt: number;
  startedAt: string;
  ms: number;
  httpStatus?: number;
  error: string | null;
  result?: unknown;
}

export interface RunReport extends RunSummary {
  messageId: number;
  orderKey: string | null;
  nextAttemptAt: string | null;
  outcome: unknown;
  input: unknown;
  attemptHistory: AttemptReport[];
  replays: ReplayReport[];
  steps: StepReport[];
}

const iso = (ms: number) => new Date(ms).toISOString();

const RUN_COLUMNS = `r.*, m.control_id AS control_id, m.message_type AS message_type, m.trigger AS message_trigger`;
const REJECTED_AFTER_ACK_LIKE = `r.status = 'dead' AND r.error LIKE '${REJECTED_AFTER_ACK}%'`;

export type RunWithMessage = RunRow & { control_id: string | null; message_type: string | null; message_trigger: string | null };

function conditions(f: RunFilter, withStatus: boolean): { where: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (withStatus && f.status?.length) {
    where.push(`r.status IN (${f.status.map(() => '?').join(',')})`);
    args.push(...f.status);
  }
  if (withStatus && f.rejectedAfterAck) where.push(REJECTED_AFTER_ACK_LIKE);
  if (f.sender) (where.push('r.sender = ?'), args.push(f.sender));
  if (f.workflow) (where.push('r.workflow = ?'), args.push(f.workflow));
  if (f.since !== undefined) (where.push('r.created_at >= ?'), args.push(f.since));
  return { where: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
}

/** The list's query, in SQL both stores run (`?` placeholders; the PostgreSQL store numbers them). */
export function listRunsQuery(f: RunFilter = {}): { sql: string; args: unknown[] } {
  const { where, args } = conditions(f, true);
  return { sql: `SELECT ${RUN_COLUMNS} FROM workflow_runs r LEFT JOIN messages m ON m.id = r.message_id ${where} ORDER BY r.id DESC LIMIT ?`, args: [...args, f.limit ?? 100] };
}

/** The dead letters' count query, for the filter's sender, workflow and time (not its status or limit). */
export function deadLettersQuery(f: RunFilter = {}): { sql: string; args: unknown[] } {
  const { where, args } = conditions(f, false);
  return {
    sql: `SELECT COUNT(*) FILTER (WHERE r.status = 'dead') AS "dead", COUNT(*) FILTER (WHERE ${REJECTED_AFTER_ACK_LIKE}) AS "rejectedAfterAck"
    FROM workflow_runs r ${where}`,
    args,
  };
}

export function listRuns(db: Database, f: RunFilter = {}): RunSummary[] {
  const q = listRunsQuery(f);
  return (db.prepare(q.sql).all(...q.args) as RunWithMessage[]).map(summary);
}

/** Counts dead letters for the filter's sender, workflow and time (not its status or limit). */
export function countDeadLetters(db: Database, f: RunFilter = {}): DeadLetterCounts {
  const q = deadLettersQuery(f);
  return db.prepare(q.sql).get(...q.args) as DeadLetterCounts;
}

export function summary(r: RunWithMessage): RunSummary {
  let outcomeCode: string | null = null;
  if (r.outcome) outcomeCode = (JSON.parse(r.outcome) as { code?: string }).code ?? null;
  return {
    id: r.id,
    workflow: r.workflow,
    sender: r.sender,
    status: r.status,
    attempts: r.attempts,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    error: r.error,
    outcomeCode,
    messageType: r.message_type ? `${r.message_type}^${r.message_trigger ?? ''}` : '',
    controlId: r.control_id ?? '',
  };
}

/** What `hdc runs show` reads of one run (parameter: the run id), the same on both stores. */
export const RUN_REPORT_QUERIES = {
  run: `SELECT ${RUN_COLUMNS} FROM workflow_runs r LEFT JOIN messages m ON m.id = r.message_id WHERE r.id = ?`,
  attempts: 'SELECT * FROM run_attempts WHERE run_id = ? ORDER BY attempt, finished_at',
  replays: 'SELECT * FROM run_replays WHERE run_id = ? ORDER BY at',
  steps: 'SELECT * FROM run_steps WHERE run_id = ? ORDER BY started_at, path',
} as const;

export interface RunRows {
  run: RunWithMessage;
  attempts: AttemptRow[];
  replays: ReplayRow[];
  steps: StepRow[];
}

export function showRun(db: Database, id: number, opts: { phi?: boolean } = {}): RunReport | undefined {
  const run = db.prepare(RUN_REPORT_QUERIES.run).get(id) as RunWithMessage | undefined;
  if (!run) return undefined;
  return runReport({
    run,
    attempts: db.prepare(RUN_REPORT_QUERIES.attempts).all(id) as AttemptRow[],
    replays: db.prepare(RUN_REPORT_QUERIES.replays).all(id) as ReplayRow[],
    steps: db.prepare(RUN_REPORT_QUERIES.steps).all(id) as StepRow[],
  }, opts);
}

/** The same report through the shared tables (a PostgreSQL store's, or the SQLite file's). */
export async function runReportOf(sql: SharedSql, id: number, opts: { phi?: boolean } = {}): Promise<RunReport | undefined> {
  const rows = <T>(text: string) => sql.all<T>(numbered(text), [id]);
  const [run] = await rows<RunWithMessage>(RUN_REPORT_QUERIES.run);
  if (!run) return undefined;
  const [attempts, replays, steps] = await Promise.all([
    rows<AttemptRow>(RUN_REPORT_QUERIES.attempts),
    rows<ReplayRow>(RUN_REPORT_QUERIES.replays),
    rows<StepRow>(RUN_REPORT_QUERIES.steps),
  ]);
  return runReport({ run, attempts, replays, steps }, opts);
}

/** The report of a run's rows; message content and mapped fields masked unless `phi`. */
export function runReport({ run: r, attempts, replays, steps }: RunRows, opts: { phi?: boolean } = {}): RunReport {
  const outcome = r.outcome ? JSON.parse(r.outcome) : null;
  return {
    ...summary(r),
    messageId: r.message_id,
    orderKey: opts.phi ? r.order_key : r.order_key === null ? null : mask(r.order_key),
    nextAttemptAt: r.status === 'failed' ? iso(r.next_attempt_at) : null,
    outcome: outcome && !opts.phi ? { ...outcome, ...(outcome.text !== undefined ? { text: mask(outcome.text) } : {}) } : outcome,
    input: r.input === null ? null : opts.phi ? JSON.parse(r.input) : maskInput(JSON.parse(r.input)),
    attemptHistory: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: iso(a.started_at),
      finishedAt: iso(a.finished_at),
      status: a.status,
      step: a.step_path,
      api: a.api,
      httpStatus: a.http_status,
      error: a.error,
      nextAttemptAt: a.next_attempt_at === null ? null : iso(a.next_attempt_at),
    })),
    replays: replays.map((p) => ({ at: iso(p.at), by: p.by, afterAttempt: p.after_attempt, fromStart: p.from_start === 1 })),
    steps: steps.map((s) => {
      const result = s.result ? JSON.parse(s.result) : undefined;
      const httpStatus = typeof result?.status === 'number' && (s.kind === 'fhir' || s.kind === 'rest' || s.kind === 'send') ? result.status : undefined;
      return {
        path: s.path,
        step: s.step_id,
        kind: s.kind,
        status: s.status,
        attempt: s.attempt,
        startedAt: iso(s.started_at),
        ms: s.finished_at - s.started_at,
        ...(httpStatus !== undefined ? { httpStatus } : {}),
        error: s.error,
        ...(opts.phi && result !== undefined ? { result } : {}),
      };
    }),
  };
}

/** The run's input with its mapped fields masked; the message's identifiers (type, control ID, …) kept. */
function maskInput(input: { fields?: unknown; message?: Record<string, unknown> }): unknown {
  const { type, trigger, controlId, version, receivedAt, sender, ...rest } = input.message ?? {};
  const message = input.message ? { type, trigger, controlId, version, receivedAt, sender, ...(maskDeep(rest) as object) } : undefined;
  return { ...input, fields: maskDeep(input.fields ?? {}), ...(message ? { message } : {}) };
}

/** Keeps the shape (keys, lengths, types), hides the values. */
export function maskDeep(v: unknown): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return mask(v);
  if (typeof v === 'number') return '•';
  if (Array.isArray(v)) return v.map(maskDeep);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, maskDeep(x)]));
  return '•';
}

function mask(s: string): string {
  return `•••(${s.length})`;
}
