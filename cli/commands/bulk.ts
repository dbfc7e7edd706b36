// `hdc bulk`: Bulk FHIR exports in a data directory — start one (a running `hdc run` picks it up
// within a second) and follow it, show its status, cancel it (the runtime sends DELETE to the
// server), list them. Reads and writes the module's tables; no runtime internals.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.ts';
import { databasePath, openDatabase } from '../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../runtime/journal/core-migrations.ts';
import { migrations as bulkMigrations } from '../../modules/bulk/bulk-schema.ts';
import { ACTIVE, exportErrors, listExports, requestCancel, requestExport, type ExportRow } from '../../modules/bulk/bulk-store.ts';
import { progressLine, type ProgressSample } from '../../modules/bulk/progress-line.ts';

const usage = `Usage:
  hdc bulk start NAME [--detach] [--data DIR]
  hdc bulk status NAME|EXPORT [--watch] [--data DIR]
  hdc bulk cancel NAME [--data DIR]
  hdc bulk list [NAME] [--json] [--data DIR]

Bulk FHIR exports of the \`bulk NAME from API { … }\` blocks of the plan that \`hdc run\` runs on
the same data directory.
  start   asks for an export now; a running \`hdc run\` starts it within a second (one export per
          block at a time). Follows it to its end (a progress bar on a terminal: files, resources,
          bytes, rate, time left; plain lines otherwise) unless --detach. Exit 1 if it fails.
  status  the last export of NAME (or the export with that id): status, counts, errors
  cancel  cancels the running export of NAME: the runtime sends DELETE to the server's status URL
  list    the last exports, newest first
  --data DIR  data directory, default .hdc-data [HDC_DATA]`;

const FINAL = new Set(['done', 'failed', 'cancelled']);

function expectedOf(db: ReturnType<typeof openDatabase>, id: string): number | undefined {
  const r = db.prepare("SELECT COUNT(*) AS files, COUNT(count) AS counted, SUM(count) AS total FROM bulk_files WHERE export_id = ? AND kind = 'output'").get(id) as { files: number; counted: number; total: number | null };
  return r.files && r.files === r.counted ? r.total ?? undefined : undefined;
}

function find(db: ReturnType<typeof openDatabase>, what: string): ExportRow | undefined {
  return (db.prepare('SELECT * FROM bulk_exports WHERE id = ?').get(what) as ExportRow | undefined) ?? listExports(db, what, 1)[0];
}

/** Follows an export until it ends: a redrawn bar on a terminal, a line every few seconds otherwise. */
async function follow(db: ReturnType<typeof openDatabase>, id: string): Promise<ExportRow> {
  const tty = process.stdout.isTTY;
  let first: ProgressSample | undefined;
  let lastPrinted = '';
  let lastStatus = '';
  let lastAt = 0;
  for (;;) {
    const row = db.prepare('SELECT * FROM bulk_exports WHERE id = ?').get(id) as ExportRow;
    const now = Date.now();
    if (row.status === 'downloading' && !first) first = { at: now, resources: row.resources };
    const line = progressLine(row, expectedOf(db, id), first, now, tty ? { bar: 24 } : {});
    if (tty) process.stdout.write(`\r\x1b[2K${line.split('\n')[0]}`);
    else if (FINAL.has(row.status) || (line !== lastPrinted && now - lastAt >= 5000) || row.status !== lastStatus) {
      console.log(line.split('\n')[0]);
      lastPrinted = line;
      lastStatus = row.status;
      lastAt = now;
    }
    if (FINAL.has(row.status)) {
      if (tty) process.stdout.write('\n');
      if (row.error) console.error(row.error);
      return row;
    }
    await new Promise((r) => setTimeout(r, tty ? 250 : 1000));
  }
}

export default defineCommand({
  name: 'bulk',
  usage,
  options: { data: { type: 'string' }, detach: { type: 'boolean' }, watch: { type: 'boolean' }, json: { type: 'boolean' } },
  minPositionals: 1,
  async run({ values: v, positionals }) {
    const [action, name] = positionals;
    if (!['start', 'status', 'cancel', 'list'].includes(action!)) throw new UsageError(`unknown action "${action}"`);
    if (action !== 'list' && !name) throw new UsageError(`hdc bulk ${action} needs the bulk block's name`);
    const dataDir = resolve(v.data ?? process.env.HDC_DATA ?? '.hdc-data');
    const file = databasePath(dataDir);
    if (action !== 'start' && !existsSync(file)) {
      console.error(`hdc bulk: no database in ${dataDir} (start \`hdc run\` first, or pass --data)`);
      return 1;
    }
    const db = openDatabase(file, { migrations: [...coreMigrations, ...bulkMigrations] });
    try {
      if (action === 'start') {
        const r = requestExport(db, name!, userInfo().username);
        const id = 'id' in r ? r.id : r.active;
        console.log('id' in r ? `export ${id} requested` : `export ${id} is already running`);
        if (v.detach) return 0;
        const row = await follow(db, id);
        return row.status === 'done' ? 0 : 1;
      }
      if (action === 'cancel') {
        const id = requestCancel(db, name!);
        if (!id) {
          console.error(`hdc bulk: no running export of ${name}`);
          return 1;
        }
        console.log(`export ${id}: cancel requested`);
        return 0;
      }
      if (action === 'status') {
        const row = find(db, name!);
        if (!row) {
          console.error(`hdc bulk: no export of ${name}`);
          return 1;
        }
        if (v.watch && ACTIVE.includes(row.status)) return (await follow(db, row.id)).status === 'done' ? 0 : 1;
        console.log(progressLine(row, expectedOf(db, row.id), undefined, Date.now()));
        for (const e of exportErrors(db, row.id, 20)) console.log(`  ${e.file_idx !== null ? `file ${e.file_idx}` : 'export'}${e.line !== null ? ` line ${e.line}` : ''}: ${e.reason}`);
        return 0;
      }
      const rows = listExports(db, name, 20);
      if (v.json) console.log(JSON.stringify(rows, null, 2));
      else if (!rows.length) console.log('no exports');
      else for (const r of rows) console.log(`${r.id}  ${r.status.padEnd(11)}  ${new Date(r.created_at).toISOString()}  resources ${r.resources}  files ${r.files_done}/${r.files}${r.errors ? `  errors ${r.errors}` : ''}`);
      return 0;
    } finally {
      db.close();
    }
  },
});
