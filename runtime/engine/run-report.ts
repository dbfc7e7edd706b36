// Reading workflow runs back for people (`hdc runs`): lists with filters, and one run's steps
// with timings and errors. Message content (inputs, response bodies, stored values, reject text)
// is PHI: it is masked unless the caller asks for it.
import type { Database } from 'better-sqlite3';
import type { RunRow, StepRow } from './run-store.ts';

export interface RunFilter {
  status?: string[];
  sender?: string;
  workflow?: string;
  /** Epoch ms: runs created at or after. */
  since?: number;
  limit?: number;
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
  steps: StepReport[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function listRuns(db: Database, f: RunFilter = {}): RunSummary[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.status?.length) {
    where.push(`status IN (${f.status.map(() => '?').join(',')})`);
    args.push(...f.status);
  }
  if (f.sender) (where.push('sender = ?'), args.push(f.sender));
  if (f.workflow) (where.push('workflow = ?'), args.push(f.workflow));
  if (f.since !== undefined) (where.push('created_at >= ?'), args.push(f.since));
  const sql = `SELECT * FROM workflow_runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...args, f.limit ?? 100) as RunRow[];
  return rows.map(summary);
}

function summary(r: RunRow): RunSummary {
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
  };
}

export function showRun(db: Database, id: number, opts: { phi?: boolean } = {}): RunReport | undefined {
  const r = db.prepare('SELECT * FROM workflow_runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!r) return undefined;
  const steps = db.prepare('SELECT * FROM run_steps WHERE run_id = ? ORDER BY started_at, path').all(id) as StepRow[];
  const outcome = r.outcome ? JSON.parse(r.outcome) : null;
  return {
    ...summary(r),
    messageId: r.message_id,
    orderKey: opts.phi ? r.order_key : r.order_key === null ? null : mask(r.order_key),
    nextAttemptAt: r.status === 'failed' ? iso(r.next_attempt_at) : null,
    outcome: outcome && !opts.phi ? { ...outcome, ...(outcome.text !== undefined ? { text: mask(outcome.text) } : {}) } : outcome,
    input: r.input === null ? null : opts.phi ? JSON.parse(r.input) : maskDeep(JSON.parse(r.input)),
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
