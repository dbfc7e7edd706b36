// The module at run time: checks the blocks again, resumes the exports a previous runtime left
// unfinished, picks up exports asked for by `hdc bulk start` (a row in bulk_exports) and cancels
// those `hdc bulk cancel` marked, and starts scheduled ones. One export per block at a time.
// On SQLite the exports and their runs are in the runtime's file (a connection of the module's
// own); on a PostgreSQL store they are the cluster's, and each export runs on the one runtime that
// holds its lease: another takes it over, from the committed progress, once that lease runs out.
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ModuleInstance, ModuleServices } from '../../runtime/platform/modules.ts';
import { createAuths } from '../../runtime/workflows/auth/create-auth.ts';
import { openDatabase } from '../../runtime/journal/open-database.ts';
import { sqliteModuleRuns } from '../../runtime/workflows/module-runs.ts';
import { sqliteSql } from '../../runtime/store/shared-sql.ts';
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
  /** Where batches commit: `thread` (SQLite: a writer thread, overlapping reading and writing) or `inline` (default). */
  writer?: 'thread' | 'inline';
  /** PostgreSQL store: how long an export's lease lasts without renewal (default the store's, `--lease`, renewed every third of it). */
  leaseMs?: number;
  /** This runtime's name as the lease holder (default the store's runtime id). */
  runtimeId?: string;
}

export interface BulkInstance extends ModuleInstance {
  /** `progress` (an export's row after each step or batch) and `settled` (its final row). */
  events: EventEmitter<{ progress: [ExportRow]; settled: [ExportRow] }>;
  /** Asks for an export now (what `hdc bulk start` does through the table); resolves with its id (or the active one's). */
  start(name: string): Promise<string>;
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
  const specs = new Map(readBulkPlan(plan).map((s) => [s.name, s]));
  const timers = { ...DEFAULT_TIMERS, ...options.timers };
  const shared = services.sql.dialect === 'postgres';
  const runtimeId = options.runtimeId ?? services.cluster?.runtimeId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseMs = options.leaseMs ?? services.cluster?.leaseMs ?? 30_000;
  // SQLite: exports write a lot (every resource is a queued run): their own connection,
  // synchronous=NORMAL like the engine's. In WAL mode a commit survives a crash of the process,
  // which is what resuming needs; after a power loss the last batches are read and queued again.
  // PostgreSQL: the store's shared tables and queue (its engine pool commits as the engine does).
  const own = shared ? undefined : openDatabase(services.dbFile, { migrate: false });
  own?.pragma('synchronous = NORMAL');
  const sql = own ? sqliteSql(own) : services.sql;
  const runs = own ? sqliteModuleRuns(own, services.events) : services.runs;
  const store = new BulkStore(sql, runs, runtimeId);
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
      spec, baseUrl: services.resolve(api.baseUrl), http, auth: authFor(api.auth), store, runs, log,
      queue: (queue ??= options.writer === 'thread' && !shared ? new QueueWriter(services.dbFile, runtimeId, services.events) : new InlineQueue(store)),
      dataDir: dirname(services.dbFile), timers, onProgress: (row) => events.emit('progress', row),
    });
  };

  const stop = new AbortController();
  const running = new Map<string, { name: string; cancel: AbortController; done: Promise<void> }>();
  const report = (err: unknown) => log.error({ error: (err as Error).message }, 'bulk: the store could not be read; trying again');
  const launch = (row: ExportRow) => {
    const spec = specs.get(row.name)!;
    const cancel = new AbortController();
    if (row.cancel_requested) cancel.abort();
    // Lost lease (a renewal found another runtime holding it): this runtime stops the export at once.
    const lost = new AbortController();
    const renew = setInterval(() => {
      store.renew(row.id, leaseMs).then((held) => {
        if (!held) lost.abort(new Error('the lease was taken over'));
      }, () => undefined); // the database unreachable for a moment: the next renewal tries again
    }, Math.max(100, Math.floor(leaseMs / 3)));
    renew.unref();
    const done: Promise<void> = exporterFor(spec).run(row.id, AbortSignal.any([stop.signal, lost.signal]), cancel.signal)
      .then(async (status) => {
        if (status === undefined) lost.abort();
        // Stopping: the lease is given up so another runtime continues at once.
        if (stop.signal.aborted) await store.release(row.id).catch(() => undefined);
        else if (status !== undefined && !lost.signal.aborted) {
          const final = await store.export(row.id);
          if (final) events.emit('settled', final);
        }
      })
      .catch((err) => log.error({ bulk: row.name, export: row.id, error: (err as Error).message }, 'bulk export stopped unexpectedly'))
      .finally(() => {
        clearInterval(renew);
        running.delete(row.id);
        // Another export of the same block may have been asked for meanwhile.
        if (!stop.signal.aborted) void pickup();
      });
    running.set(row.id, { name: row.name, cancel, done });
  };
  let picking: Promise<void> | undefined;
  let pickAgain = false;
  const pickup = (): Promise<void> => {
    if (picking) {
      pickAgain = true;
      return picking;
    }
    picking = (async () => {
      do {
        pickAgain = false;
        for (const row of await store.active()) {
          if (stop.signal.aborted) return;
          if (!specs.has(row.name)) {
            // Asked for by `hdc bulk start` with a name this plan has no block for: say so rather than wait.
            // (On a shared store another runtime's plan may have it: only a runtime that is alone says so.)
            if (row.status === 'requested' && !shared) {
              await store.refuse(row.id, `no bulk block named ${row.name} in the running plan (blocks: ${[...specs.keys()].join(', ')})`);
              const final = await store.export(row.id);
              if (final) events.emit('settled', final);
            }
            continue;
          }
          const r = running.get(row.id);
          if (r) {
            if (row.cancel_requested && !r.cancel.signal.aborted) r.cancel.abort();
            continue;
          }
          if ([...running.values()].some((x) => x.name === row.name)) continue;
          // One runtime per export: the lease's holder (on SQLite this runtime is the only one).
          if (await store.claim(row.id, leaseMs, !shared)) {
            if (row.status !== 'requested') log.info({ bulk: row.name, export: row.id }, 'resuming bulk export');
            if (stop.signal.aborted) await store.release(row.id);
            else launch(row);
          }
        }
      } while (pickAgain && !stop.signal.aborted);
    })().catch(report).finally(() => {
      picking = undefined;
    });
    return picking;
  };
  if (!shared) for (const row of await store.active()) if (!specs.has(row.name) && row.status !== 'requested') log.warn({ bulk: row.name, export: row.id }, 'bulk export left unfinished by a plan without its block');
  await pickup();
  const timer = setInterval(() => void pickup(), options.pickupMs ?? 1000);
  timer.unref();
  // Several runtimes' schedules reach the same time: one export (requestExport's minimum gap).
  const scheduler = new Scheduler([...specs.values()], (name) => {
    const spec = specs.get(name)!;
    // `every`: each runtime's timer runs from its own start, so one per period (nearly) is what is kept.
    const gap = spec.schedule && 'everyMs' in spec.schedule ? spec.schedule.everyMs * 0.9 : 30_000;
    requestExport(sql, name, 'schedule', Date.now(), shared ? gap : 0).then((r) => {
      if ('active' in r) log.warn({ bulk: name, active: r.active }, 'bulk export: scheduled time reached while the last export still runs; skipped');
      else if ('id' in r) void pickup();
    }, report);
  });
  scheduler.start();

  return {
    events,
    async start(name) {
      if (!specs.has(name)) throw new Error(`no bulk block named ${name}`);
      const r = await requestExport(sql, name, 'api');
      if ('active' in r) return r.active;
      if ('recent' in r) return r.recent;
      void pickup();
      return r.id;
    },
    async stop() {
      clearInterval(timer);
      scheduler.stop();
      stop.abort(new Error('the runtime is stopping'));
      await Promise.allSettled([...running.values()].map((r) => r.done));
      await picking;
      for (const c of clients.values()) c.close();
      await queue?.close();
      own?.close();
    },
  };
}
