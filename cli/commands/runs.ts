// `hdc runs`: the workflow runs in a data directory — list (with filters and a count of dead
// letters), show one (every attempt, steps, timings, errors; PHI masked unless --phi), and replay
// a dead letter (recording who did).
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.ts';
import { countDeadLetters, listRuns, showRun, type DeadLetterCounts, type RunFilter, type RunReport, type RunSummary } from '../../runtime/workflows/run-report.ts';
import { RunStore } from '../../runtime/workflows/run-store.ts';
import { databasePath, openDatabase } from '../../runtime/journal/open-database.ts';

const usage = `Usage:
  hdc runs [--status S[,S…]] [--rejected-after-ack] [--sender NAME] [--workflow NAME] [--since WHEN] [--limit N] [--json]
  hdc runs show ID [--phi] [--json]
  hdc runs replay ID [--from-start] [--by NAME]

Lists the workflow runs recorded in the data directory, newest first, with the message type and
control ID; below the table, the dead letters counted (and how many were rejected after
acknowledgement) for the same sender, workflow and time.
  --status      queued, running, done, rejected, failed (waiting to retry) or dead (dead letters)
  --rejected-after-ack  only dead letters whose workflow rejected (AE/AR) a message the partner
                had already been told was accepted
  --since       an ISO date/time, or a duration back from now: 30m, 12h, 7d
  --data DIR    data directory, default .hdc-data [HDC_DATA]
  --store URL   the PostgreSQL store several runtimes share (postgres://…) instead of the data
                directory [HDC_STORE]
  --json        print JSON instead of a table

show    one run: the message type and control ID, input, outcome, every attempt (when, status,
        step, HTTP status, error, next try), every replay (when, by whom) and every step with its
        timing, HTTP status and error. Message content (mapped fields, response bodies, reject
        text) is masked unless --phi.
replay  puts a dead (or failed) run back in the queue; a running \`hdc run\` picks it up within a
        second. Finished steps are not repeated unless --from-start. The attempt count goes on
        and the retry budget starts afresh; the replay is recorded with --by NAME (default: the
        operating-system user running the command).`;

function parseSince(text: string, now = Date.now()): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--since: expected an ISO date or a duration like 12h, got "${text}"`);
  return t;
}

function table(rows: RunSummary[], dead: DeadLetterCounts): string {
  const footer = dead.dead ? `\ndead letters: ${dead.dead} (${dead.rejectedAfterAck} rejected after acknowledgement)` : '';
  if (!rows.length) return 'no runs' + footer;
  const head = ['ID', 'WORKFLOW', 'SENDER', 'MESSAGE', 'CONTROL ID', 'STATUS', 'TRIES', 'CREATED', 'ERROR'];
  const last = head.length - 1;
  const body = rows.map((r) => [String(r.id), r.workflow, r.sender, r.messageType, r.controlId, r.outcomeCode ? `${r.status} ${r.outcomeCode}` : r.status, String(r.attempts), r.createdAt, r.error ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === last ? 0 : b[i].length))));
  return [head, ...body].map((cols) => cols.map((c, i) => (i === last ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + footer;
}

function describe(r: RunReport): string {
  const lines = [
    `run ${r.id}  ${r.workflow}  (sender ${r.sender}, message ${r.messageId}: ${r.messageType} control ID ${r.controlId})`,
    `status     ${r.status}${r.outcomeCode ? ` ${r.outcomeCode}` : ''}  after ${r.attempts} attempt(s)`,
    `created    ${r.createdAt}`,
    `updated    ${r.updatedAt}`,
  ];
  if (r.nextAttemptAt) lines.push(`next try   ${r.nextAttemptAt}`);
  if (r.error) lines.push(`error      ${r.error}`);
  if (r.outcome) lines.push(`outcome    ${JSON.stringify(r.outcome)}`);
  lines.push(`input      ${JSON.stringify(r.input)}`, '', 'attempts:');
  if (!r.attemptHistory.length && !r.replays.length) lines.push('  (none recorded)');
  // Attempts and replays in the order they happened.
  const events = [
    ...r.attemptHistory.map((a) => ({ at: a.finishedAt, text: attemptLine(a) })),
    ...r.replays.map((p) => ({ at: p.at, text: `  replayed   ${p.at}  by ${p.by} after attempt ${p.afterAttempt}${p.fromStart ? ' (from the first step)' : ''}` })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const e of events) lines.push(e.text);
  lines.push('', 'steps:');
  if (!r.steps.length) lines.push('  (none finished)');
  for (const s of r.steps) {
    const http = s.httpStatus !== undefined ? ` HTTP ${s.httpStatus}` : '';
    lines.push(`  ${s.path.padEnd(10)} ${s.step.padEnd(14)} ${s.kind.padEnd(9)} ${s.status.padEnd(6)} ${String(s.ms).padStart(6)} ms${http}  (attempt ${s.attempt})`);
    if (s.error) lines.push(`             ${s.error}`);
    if (s.result !== undefined) lines.push(`             ${JSON.stringify(s.result)}`);
  }
  return lines.join('\n');
}

function attemptLine(a: RunReport['attemptHistory'][number]): string {
  const http = a.httpStatus !== null ? ` HTTP ${a.httpStatus}` : '';
  const where = a.step !== null ? ` step ${a.step}${a.api ? ` (${a.api})` : ''}` : '';
  const next = a.nextAttemptAt ? `; next try ${a.nextAttemptAt}` : '';
  const line = `  #${String(a.attempt).padEnd(9)} ${a.startedAt}  ${a.status.padEnd(11)}${where}${http}${next}`;
  return a.error ? `${line}\n             ${a.error}` : line;
}

/** Who ran the command, for the replay record; never fails (a user without a passwd entry). */
function operatingSystemUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

export default defineCommand({
  name: 'runs',
  usage,
  options: {
    status: { type: 'string' },
    sender: { type: 'string' },
    workflow: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    data: { type: 'string' },
    phi: { type: 'boolean' },
    json: { type: 'boolean' },
    'from-start': { type: 'boolean' },
    'rejected-after-ack': { type: 'boolean' },
    by: { type: 'string' },
    store: { type: 'string' },
  },
  async run(parsed) {
    const { values: v, positionals } = parsed;
    const storeUrl = v.store ?? (process.env.HDC_STORE || undefined);
    let runs: RunsSource;
    try {
      runs = storeUrl ? await postgresRuns(storeUrl) : sqliteRuns(resolve(v.data ?? process.env.HDC_DATA ?? '.hdc-data'));
    } catch (err) {
      console.error(`hdc runs: ${(err as Error).message}`);
      return err instanceof UsageError ? 2 : 1;
    }
    try {
      const [sub, idText] = positionals;
      if (sub === 'show' || sub === 'replay') {
        const id = Number(idText);
        if (!Number.isInteger(id)) {
          console.error(`hdc runs ${sub}: expected a run id`);
          return 2;
        }
        if (sub === 'show') {
          const report = await runs.show(id, v.phi === true);
          if (!report) {
            console.error(`hdc runs: no run ${id}`);
            return 1;
          }
          console.log(v.json ? JSON.stringify(report, null, 2) : describe(report));
          return 0;
        }
        const by = v.by?.trim() || operatingSystemUser();
        const r = await runs.replay(id, v['from-start'] === true, by);
        if (r === 'missing') {
          console.error(`hdc runs: no run ${id}`);
          return 1;
        }
        if (r !== 'replayed') {
          console.error(`hdc runs: run ${id} is ${r}; only dead or failed runs can be replayed`);
          return 1;
        }
        console.log(`run ${id} queued again${v['from-start'] ? ' (from the first step)' : ''}, replayed by ${by}`);
        return 0;
      }
      if (sub !== undefined) {
        console.error(`hdc runs: unknown sub-command "${sub}"\n\n${usage}`);
        return 2;
      }
      const filter = {
        status: v.status?.split(',').map((x) => x.trim()).filter(Boolean),
        rejectedAfterAck: v['rejected-after-ack'] === true,
        sender: v.sender,
        workflow: v.workflow,
        since: v.since ? parseSince(v.since) : undefined,
        limit: v.limit ? Number(v.limit) : undefined,
      };
      const rows = await runs.list(filter);
      console.log(v.json ? JSON.stringify(rows, null, 2) : table(rows, await runs.deadLetters(filter)));
      return 0;
    } catch (err) {
      console.error(`hdc runs: ${(err as Error).message}`);
      return 1;
    } finally {
      await runs.close();
    }
  },
});

/** Where the runs are read and replayed: the data directory's SQLite file or the shared PostgreSQL store. */
interface RunsSource {
  list(f: RunFilter): Promise<RunSummary[]>;
  deadLetters(f: RunFilter): Promise<DeadLetterCounts>;
  show(id: number, phi: boolean): Promise<RunReport | undefined>;
  /** 'replayed', or why not: 'missing', or the run's status. */
  replay(id: number, fromStart: boolean, by: string): Promise<string>;
  close(): Promise<void>;
}

function sqliteRuns(dataDir: string): RunsSource {
  const file = databasePath(dataDir);
  if (!existsSync(file)) throw new Error(`no database in ${dataDir} (start \`hdc run\` first, or pass --data)`);
  const db = openDatabase(file);
  return {
    list: async (f) => listRuns(db, f),
    deadLetters: async (f) => countDeadLetters(db, f),
    show: async (id, phi) => showRun(db, id, { phi }),
    async replay(id, fromStart, by) {
      const store = new RunStore(db);
      const run = store.run(id);
      if (!run) return 'missing';
      return store.replay(id, Date.now(), fromStart, by) ? 'replayed' : run.status;
    },
    close: async () => void db.close(),
  };
}

/** Loaded only for a PostgreSQL store: the embedded default never loads pg. */
async function postgresRuns(url: string): Promise<RunsSource> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--store takes a postgres:// URL');
  const { createPool } = await import('../../runtime/store/postgres/pg-pool.ts');
  const { listRunsPg, countDeadLettersPg, replayRunPg, showRunPg } = await import('../../runtime/store/postgres/pg-runs.ts');
  const pool = createPool({ url, max: 1, applicationName: 'hdc runs' });
  return {
    list: (f) => listRunsPg(pool, f),
    deadLetters: (f) => countDeadLettersPg(pool, f),
    show: (id, phi) => showRunPg(pool, id, { phi }),
    replay: (id, fromStart, by) => replayRunPg(pool, id, { fromStart, by }),
    close: () => pool.end(),
  };
}
