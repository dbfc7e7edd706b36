// `hdc bulk`: Bulk FHIR exports in a data directory or a PostgreSQL store — start one (a running
// `hdc run` picks it up within a second) and follow it, show its status, cancel it (the runtime
// sends DELETE to the server), list them. Reads and writes the module's tables; no runtime internals.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.ts';
import { databasePath, openDatabase } from '../../runtime/journal/open-database.ts';
import { coreMigrations } from '../../runtime/journal/core-migrations.ts';
import { migrations as bulkMigrations } from '../../modules/bulk/bulk-schema.ts';
import { ACTIVE, exportErrors, exportRow, expectedResources, listExports, requestCancel, requestExport, type ExportRow } from '../../modules/bulk/bulk-store.ts';
import { sqliteSql, type SharedSql } from '../../runtime/store/shared-sql.ts';
import { progressLine, type ProgressSample } from '../../modules/bulk/progress-line.ts';

const usage = `Usage:
  hdc bulk start NAME [--detach] [--data DIR | --store URL]
  hdc bulk status NAME|EXPORT [--watch] [--data DIR | --store URL]
  hdc bulk cancel NAME [--data DIR | --store URL]
  hdc bulk list [NAME] [--json] [--data DIR | --store URL]

Bulk FHIR exports of the \`bulk NAME from API { … }\` blocks of the plan that \`hdc run\` runs on
the same data directory, or of the runtimes sharing a PostgreSQL store (one of them runs each export).
  start   asks for an export now; a running \`hdc run\` starts it within a second (one export per
          block at a time). Follows it to its end (a progress bar on a terminal: files, resources,
          bytes, rate, time left; plain lines otherwise) unless --detach. Exit 1 if it fails.
  status  the last export of NAME (or the export with that id): status, counts, errors
  cancel  cancels the running export of NAME: the runtime sends DELETE to the server's status URL
  list    the last exports, newest first
  --data DIR   data directory, default .hdc-data [HDC_DATA]
  --store URL  postgres://… : the exports of the runtimes sharing that store [HDC_STORE]`;

const FINAL = new Set(['done', 'failed', 'cancelled']);

async function find(sql: SharedSql, what: string): Promise<ExportRow | undefined> {
  return (await exportRow(sql, what)) ?? (await listExports(sql, what, 1))[0];
}

/** Follows an export until it ends: a redrawn bar on a terminal, a line every few seconds otherwise. */
async function follow(sql: SharedSql, id: string): Promise<ExportRow> {
  const tty = process.stdout.isTTY;
  let first: ProgressSample | undefined;
  let lastPrinted = '';
  let lastStatus = '';
  let lastAt = 0;
  for (;;) {
    const row = (await exportRow(sql, id))!;
    const now = Date.now();
    if (row.status === 'downloading' && !first) first = { at: now, resources: row.resources };
    const line = progressLine(row, await expectedResources(sql, id), first, now, tty ? { bar: 24 } : {});
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
  options: { data: { type: 'string' }, store: { type: 'string' }, detach: { type: 'boolean' }, watch: { type: 'boolean' }, json: { type: 'boolean' } },
  minPositionals: 1,
  async run({ values: v, positionals }) {
    const [action, name] = positionals;
    if (!['start', 'status', 'cancel', 'list'].includes(action!)) throw new UsageError(`unknown action "${action}"`);
    if (action !== 'list' && !name) throw new UsageError(`hdc bulk ${action} needs the bulk block's name`);
    const storeUrl = v.store ?? (process.env.HDC_STORE || undefined);
    let sql: SharedSql;
    let close: () => Promise<void>;
    if (storeUrl) {
      if (!/^postgres(ql)?:\/\//.test(storeUrl)) throw new UsageError('--store: expected a postgres:// URL');
      const { openSharedSql } = await import('../../runtime/store/postgres/open-shared-sql.ts');
      ({ sql, close } = await openSharedSql(storeUrl, bulkMigrations));
    } else {
      const dataDir = resolve(v.data ?? process.env.HDC_DATA ?? '.hdc-data');
      const file = databasePath(dataDir);
      if (action !== 'start' && !existsSync(file)) {
        console.error(`hdc bulk: no database in ${dataDir} (start \`hdc run\` first, or pass --data or --store)`);
        return 1;
      }
      const db = openDatabase(file, { migrations: [...coreMigrations, ...bulkMigrations] });
      sql = sqliteSql(db);
      close = async () => {
        db.close();
      };
    }
    try {
      if (action === 'start') {
        const r = await requestExport(sql, name!, userInfo().username);
        const id = 'id' in r ? r.id : 'active' in r ? r.active : r.recent;
        console.log('id' in r ? `export ${id} requested` : `export ${id} is already running`);
        if (v.detach) return 0;
        const row = await follow(sql, id);
        return row.status === 'done' ? 0 : 1;
      }
      if (action === 'cancel') {
        const id = await requestCancel(sql, name!);
        if (!id) {
          console.error(`hdc bulk: no running export of ${name}`);
          return 1;
        }
        console.log(`export ${id}: cancel requested`);
        return 0;
      }
      if (action === 'status') {
        const row = await find(sql, name!);
        if (!row) {
          console.error(`hdc bulk: no export of ${name}`);
          return 1;
        }
        if (v.watch && ACTIVE.includes(row.status)) return (await follow(sql, row.id)).status === 'done' ? 0 : 1;
        console.log(progressLine(row, await expectedResources(sql, row.id), undefined, Date.now()));
        for (const e of await exportErrors(sql, row.id, 20)) console.log(`  ${e.file_idx !== null ? `file ${e.file_idx}` : 'export'}${e.line !== null ? ` line ${e.line}` : ''}: ${e.reason}`);
        return 0;
      }
      const rows = await listExports(sql, name, 20);
      if (v.json) console.log(JSON.stringify(rows, null, 2));
      else if (!rows.length) console.log('no exports');
      else for (const r of rows) console.log(`${r.id}  ${r.status.padEnd(11)}  ${new Date(r.created_at).toISOString()}  resources ${r.resources}  files ${r.files_done}/${r.files}${r.errors ? `  errors ${r.errors}` : ''}`);
      return 0;
    } finally {
      await close();
    }
  },
});
