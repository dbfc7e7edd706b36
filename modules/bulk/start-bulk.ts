// The module at run time: checks the blocks again, resumes the exports a previous runtime left
// unfinished, picks up exports asked for by `hdc bulk start` (a row in bulk_exports) and cancels
// those `hdc bulk cancel` marked, and starts scheduled ones. One export per block at a time.
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import type { ModuleInstance, ModuleServices } from '../../runtime/platform/modules.ts';
import { createAuths } from '../../runtime/workflows/auth/create-auth.ts';
import { openDatabase } from '../../runtime/journal/open-database.ts';
import { ModuleRuns } from '../../runtime/workflows/module-runs.ts';
import type { AuthProvider } from '../../runtime/workflows/auth/auth-provider.ts';
import { srcLine } from '../../runtime/platform/config/source-location.ts';
import { readBulkPlan, bulkBlocks, type BulkExportSpec } from './bulk-plan.ts';
import { checkBulk } from './checks.ts';
import { BulkStore, requestExport, type ExportRow } from './bulk-store.ts';
import { DEFAULT_TIMERS, Exporter, type ExporterTimers } from './exporter.ts';
import { HttpClient } from './http-client.ts';
import { InlineQueue, QueueWriter, type BatchQueue } from './queue-writer.ts';
import { Scheduler } from './scheduler.ts';

export interface BulkOptions {
  /** Shorter timers for tests. */
  timers?: Partial<ExporterTimers>;
  /** How often the table is read for exports asked for by the CLI (default 1 s). */
  pickupMs?: number;
  /** Where batches commit: `thread` (a writer thread, overlapping reading and writing) or `inline` (default). */
  writer?: 'thread' | 'inline';
}

export interface BulkInstance extends ModuleInstance {
  /** `progress` (an export's row after each step or batch) and `settled` (its final row). */
  events: EventEmitter<{ progress: [ExportRow]; settled: [ExportRow] }>;
  /** Asks for an export now (what `hdc bulk start` does through the table). */
  start(name: string): string;
}

export async function startBulk(services: ModuleServices, options: BulkOptions = {}): Promise<BulkInstance> {
  const { plan, log } = services;
  const problems = checkBulk(bulkBlocks(plan), {
    workflows: plan.workflows.map((w) => w.name),
    apis: plan.apis.map((a) => ({ name: a.name, kind: a.kind, ...(a.auth ? { auth: a.auth } : {}) })),
    auths: plan.auths.map((a) => ({ name: a.name, kind: a.kind })),
  }).filter((p) => p.severity === 'error');
  if (problems.length) {
    const blocks = bulkBlocks(plan);
    throw new Error(problems.map((p) => `${srcLine(blocks[p.block]?.src ?? '')}: ${p.code} ${p.summary}`).join('\n'));
  }
  // The runs an export queues are the SQLite engine's: on a PostgreSQL store no runtime would run them.
  if (services.sql?.dialect === 'postgres') {
    const first = Object.values(bulkBlocks(plan))[0];
    throw new Error(`${srcLine(first?.src ?? '')}: bulk exports need the SQLite store for now (this runtime uses PostgreSQL); run them on a runtime with store sqlite`);
  }
  const specs = new Map(readBulkPlan(plan).map((s) => [s.name, s]));
  const timers = { ...DEFAULT_TIMERS, ...options.timers };
  // Exports write a lot (every resource is a queued run): their own connection, synchronous=NORMAL
  // like the engine's. In WAL mode a commit survives a crash of the process, which is what resuming
  // needs; after a power loss the last batches are read and queued again.
  const own = openDatabase(services.dbFile, { migrate: false });
  own.pragma('synchronous = NORMAL');
  const store = new BulkStore(own);
  const runs = new ModuleRuns(own, services.events);
  let queue: BatchQueue | undefined;
  const events = new EventEmitter<{ progress: [ExportRow]; settled: [ExportRow] }>();
  // Announced to the other modules (the dashboard may show exports): names and counts only.
  const announce = (row: ExportRow) => services.moduleEvents?.emit('bulk-export', {
    block: row.name, export: row.id, status: row.status, files: row.files, filesDone: row.files_done, resources: row.resources, bytes: row.bytes, errors: row.errors,
    startedAt: row.created_at, endedAt: row.finished_at,
  });
  events.on('progress', announce);
  events.on('settled', announce);
  const clients = new Map<string, HttpClient>();
  let ownAuths: Map<string, AuthProvider> | undefined;
  const authFor = (name: string | undefined) => {
    if (!name) return undefined;
    // The engine's providers when it runs (one token cache for workflows and exports).
    return services.engine()?.apis.auths.get(name) ?? (ownAuths ??= createAuths(plan, services.resolve)).get(name);
  };
  const exporterFor = (spec: BulkExportSpec): Exporter => {
    const api = plan.apis.find((a) => a.name === spec.api)!;
    let http = clients.get(api.name);
    if (!http) {
      const t = api.tls;
      http = new HttpClient(t ? { ...(t.ca ? { ca: services.resolve(t.ca) } : {}), ...(t.cert ? { cert: services.resolve(t.cert) } : {}), ...(t.key ? { key: services.resolve(t.key) } : {}) } : {});
      clients.set(api.name, http);
    }
    return new Exporter({
      spec, baseUrl: services.resolve(api.baseUrl), http, auth: authFor(api.auth), store, runs, queue: (queue ??= options.writer === 'thread' ? new QueueWriter(services.dbFile) : new InlineQueue(own)), log,
      dataDir: dirname(services.dbFile), timers, onProgress: (row) => events.emit('progress', row),
    });
  };

  const stop = new AbortController();
  const running = new Map<string, { cancel: AbortController; done: Promise<void> }>();
  const launch = (row: ExportRow) => {
    const spec = specs.get(row.name);
    if (!spec || running.has(row.id) || stop.signal.aborted) return;
    if ([...running.keys()].some((id) => store.export(id)?.name === row.name)) return;
    const cancel = new AbortController();
    if (row.cancel_requested) cancel.abort();
    const done: Promise<void> = exporterFor(spec).run(row.id, stop.signal, cancel.signal).then(() => undefined)
      .catch((err) => log.error({ bulk: row.name, export: row.id, error: (err as Error).message }, 'bulk export stopped unexpectedly'))
      .finally(() => {
        running.delete(row.id);
        const final = store.export(row.id);
        if (final && !stop.signal.aborted) events.emit('settled', final);
        // Another export of the same block may have been asked for meanwhile.
        if (!stop.signal.aborted) pickup();
      });
    running.set(row.id, { cancel, done });
  };
  const pickup = () => {
    for (const row of store.active()) {
      if (!specs.has(row.name)) {
        // Asked for by `hdc bulk start` with a name this plan has no block for: say so rather than wait.
        if (row.status === 'requested') {
          store.update(row.id, { status: 'failed', error: `no bulk block named ${row.name} in the running plan (blocks: ${[...specs.keys()].join(', ')})`, finished_at: Date.now() });
          events.emit('settled', store.export(row.id)!);
        }
        continue;
      }
      const r = running.get(row.id);
      if (r && row.cancel_requested && !r.cancel.signal.aborted) r.cancel.abort();
      else if (!r) launch(row);
    }
  };
  for (const row of store.active()) if (!specs.has(row.name) && row.status !== 'requested') log.warn({ bulk: row.name, export: row.id }, 'bulk export left unfinished by a plan without its block');
  const resumed = store.active().filter((r) => specs.has(r.name) && r.status !== 'requested');
  if (resumed.length) log.info({ exports: resumed.map((r) => r.id) }, 'resuming bulk exports');
  pickup();
  const timer = setInterval(pickup, options.pickupMs ?? 1000);
  timer.unref();
  const scheduler = new Scheduler([...specs.values()], (name) => {
    const r = requestExport(own, name, 'schedule');
    if ('active' in r) log.warn({ bulk: name, active: r.active }, 'bulk export: scheduled time reached while the last export still runs; skipped');
    else pickup();
  });
  scheduler.start();

  return {
    events,
    start(name) {
      if (!specs.has(name)) throw new Error(`no bulk block named ${name}`);
      const r = requestExport(own, name, 'api');
      if ('active' in r) return r.active;
      pickup();
      return r.id;
    },
    async stop() {
      clearInterval(timer);
      scheduler.stop();
      stop.abort(new Error('the runtime is stopping'));
      await Promise.allSettled([...running.values()].map((r) => r.done));
      for (const c of clients.values()) c.close();
      await queue?.close();
      own.close();
    },
  };
}
