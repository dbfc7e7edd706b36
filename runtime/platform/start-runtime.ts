// Starts the runtime: database and journal, the Koa app on HTTPS (or loopback HTTP when asked),
// retention, and an orderly shutdown: stop accepting, drain in-flight requests, finish journal
// writes, close the database.
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plan, Workflow } from '../../plan/plan.types.ts';
import { openDatabase, databasePath, type Database } from '../journal/open-database.ts';
import { Journal, type JournalThread } from '../journal/group-commit.ts';
import type { JournalStore } from '../store/journal-store.ts';
import { sqliteSql, type SharedSql } from '../store/shared-sql.ts';
import type { Migration } from '../journal/migrations.ts';
import { sqliteModuleRuns, type ModuleRuns } from '../workflows/module-runs.ts';
import type { RestartPolicy } from './threads/supervised-thread.ts';
import { runEvents as sharedRunEvents, type RunEvents } from '../journal/run-events.ts';
import { loadServerTls, type TlsFiles } from './tls/server-tls.ts';
import { isLoopback } from './config/run-options.ts';
import { srcLine } from './config/source-location.ts';
import type { Logger } from './log/logger.ts';
import { TrafficLog } from './log/traffic-log.ts';
import { SenderDirectory } from '../inbound/sender-directory.ts';
import { createApp, type AppState } from './create-app.ts';
import { createHl7Endpoint, type FieldMapper, type OrderKeyFor } from '../inbound/hl7-endpoint.ts';
import { watchConnections } from './connection-limits.ts';
import { InboundEvents } from '../inbound/inbound-events.ts';
import { coreMigrations } from '../journal/core-migrations.ts';
import { createValueResolver } from '../workflows/resolve-value.ts';
import type { Engine } from '../workflows/engine.ts';
import { loadModules, type ModuleInstance, type ModuleServices } from './modules.ts';
import { ModuleEvents } from './module-events.ts';
import { OutboundHeaderProviders } from '../workflows/outbound-headers.ts';

export interface RuntimeOptions {
  host: string;
  port: number;
  /** TLS files; null for plain HTTP (loopback only). */
  tls: TlsFiles | null;
  dataDir: string;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  retentionDays?: number;
  logPhi: boolean;
  log: Logger;
  mapFields: FieldMapper;
  orderKeyFor?: OrderKeyFor;
  journalThread?: JournalThread;
  /** A journal opened by the caller (the PostgreSQL store); default the SQLite journal in dataDir. */
  journal?: JournalStore;
  /** The shared tables' database when the caller opened one (the PostgreSQL store); default the SQLite file. */
  shared?: {
    sql: SharedSql;
    migrateShared(list: readonly Migration[]): Promise<string[]>;
    moduleRuns?(events: RunEvents): ModuleRuns;
    /** This runtime's id among those sharing the store, and their lease on work (modules' leases follow it). */
    runtimeId?: string;
    leaseMs?: number;
  };
  events?: RunEvents;
  /** Public base URL (behind a proxy); default the listening URL. SMART redirect_uris derive from it. */
  publicUrl?: string;
  /** Options for a module, by module name (tests shorten timers, swap transports): `{ smart: { … } }`. */
  moduleOptions?: Record<string, unknown>;
  /** How often the listener logs its message counts (info, 'hl7 traffic'); default 10 s. */
  trafficLogIntervalMs?: number;
  /** How a dead writer thread is restarted (tests shorten it). */
  writerRestart?: Partial<RestartPolicy>;
  /**
   * A writer thread kept dying (or something else the process cannot recover from). Default: log
   * it and exit with code 70, so that the process supervisor starts the runtime afresh.
   */
  onFatal?: (err: Error) => void;
  /** Connections open at once; more are dropped at accept. Default 1000. */
  maxConnections?: number;
  /** Time allowed for a TLS handshake. Default 10 s. */
  tlsHandshakeTimeoutMs?: number;
  /** A connection that sends no request this long after it opened is closed. Default 10 s. */
  idleTimeoutMs?: number;
}

export const LISTENER_DEFAULTS = { maxConnections: 1000, tlsHandshakeTimeoutMs: 10_000, idleTimeoutMs: 10_000 } as const;

/** Something that runs beside the listener (the workflow engine) and stops before the database closes. */
export interface RuntimeService {
  stop(): Promise<void>;
  /** False while the service cannot work (its writer thread is down): /ready says not ready. */
  ready?(): boolean;
}

export interface Runtime {
  url: string;
  port: number;
  server: Server;
  /** The main-thread connection (migrated); the journal writes through its own. */
  db: Database;
  dbFile: string;
  /** The tables every runtime of a cluster shares (users, SMART launch sessions). */
  sql: SharedSql;
  journal: JournalStore;
  events: RunEvents;
  state: AppState;
  /** Every answered HL7 message, as it is answered. */
  inbound: InboundEvents;
  /** What the modules announce to each other (embedding programs and tests may listen). */
  moduleEvents: ModuleEvents;
  /** The running modules (those the plan uses), by name. */
  modules: ReadonlyMap<string, ModuleInstance>;
  /** Hands the workflow engine to the modules that start runs (Bulk FHIR), and gives it the modules' outbound headers. */
  attachEngine(engine: Engine): void;
  /** Headers modules add to workflow requests (an engine not attached, PostgreSQL's, takes them as an option). */
  outboundHeaders: OutboundHeaderProviders;
  /** Registers a service to stop after in-flight requests drained, before the database closes. */
  addService(service: RuntimeService): void;
  /** Message counts since start (reused control IDs among them). */
  traffic: TrafficLog;
  /** Reports an unrecoverable failure (see RuntimeOptions.onFatal); services call it too. */
  fatal(err: Error): void;
  /** Runs the retention purge now; resolves to the rows touched. */
  purge(): Promise<number>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

export async function startRuntime(plan: Plan, opts: RuntimeOptions): Promise<Runtime> {
  if (!opts.tls && !isLoopback(opts.host)) throw new Error(`plain HTTP is only allowed on a loopback address, not ${opts.host}`);
  const tlsOptions = opts.tls ? loadServerTls(opts.tls) : null;
  const directory = new SenderDirectory(plan);
  if (directory.usesClientCertificates && !opts.tls?.clientCa) {
    const names = plan.senders.filter((s) => s.identity.kind === 'client_cert').map((s) => `${srcLine(s.identity.src ?? s.src)} (${s.name})`);
    throw new Error(`senders identified by client certificate need a client CA (--client-ca) over HTTPS: ${names.join(', ')}`);
  }
  const log = opts.log;
  const events = opts.events ?? sharedRunEvents;

  // Modules (SMART launches with their OIDC and HTTP clients, …) load only when the plan uses
  // them, and before the database opens so that their migrations are applied with the core's.
  const modules = await loadModules(plan);

  let fatalReported = false;
  const fatal = (err: Error) => {
    if (fatalReported) return;
    fatalReported = true;
    if (opts.onFatal) return opts.onFatal(err);
    log.fatal({ err: err.message }, 'cannot continue; exiting so that the supervisor restarts the runtime');
    log.flush();
    process.exit(70);
  };

  const dbFile = databasePath(opts.dataDir);
  const moduleMigrations = modules.flatMap((m) => m.migrations ?? []);
  const db = openDatabase(dbFile, { migrations: [...coreMigrations, ...moduleMigrations] });
  let journal: JournalStore;
  let sql: SharedSql = sqliteSql(db);
  try {
    if (opts.shared) {
      const applied = await opts.shared.migrateShared(moduleMigrations);
      if (applied.length) log.info({ migrations: applied }, 'shared tables migrated');
      sql = opts.shared.sql;
    }
    journal = opts.journal ?? await Journal.open({
      file: dbFile, thread: opts.journalThread ?? 'worker', log, onFatal: fatal, ...(opts.writerRestart ? { restart: opts.writerRestart } : {}),
    });
  } catch (err) {
    db.close();
    throw err;
  }

  const state: AppState = { ready: false, shuttingDown: false, inFlight: 0 };
  const workflows = new Map<string, Workflow>(plan.workflows.map((w) => [w.name, w]));
  const inbound = new InboundEvents();
  const traffic = new TrafficLog(log, opts.trafficLogIntervalMs).start().watch(events, inbound);
  const handleHl7 = createHl7Endpoint({
    journal, events, log, logPhi: opts.logPhi, maxBodyBytes: opts.maxBodyBytes, inbound,
    mapFields: opts.mapFields, workflows, ...(opts.orderKeyFor ? { orderKeyFor: opts.orderKeyFor } : {}),
  });
  let publicUrl = opts.publicUrl?.replace(/\/+$/, '');
  const services: RuntimeService[] = [];
  let engine: Engine | undefined;
  const outboundHeaders = new OutboundHeaderProviders();
  const moduleEvents = new ModuleEvents();
  const moduleServices: ModuleServices = {
    plan, db, dbFile, sql, runs: opts.shared?.moduleRuns?.(events) ?? sqliteModuleRuns(db, events), events, inbound,
    ...(opts.shared?.runtimeId ? { cluster: { runtimeId: opts.shared.runtimeId, leaseMs: opts.shared.leaseMs ?? 30_000 } } : {}), log, resolve: createValueResolver(), publicUrl: () => publicUrl ?? '', engine: () => engine, fatal,
    journal: journal.commits, moduleEvents, outboundHeaders: (p) => outboundHeaders.add(p),
  };
  const running = new Map<string, ModuleInstance>();
  try {
    for (const m of modules) running.set(m.name, await m.start(moduleServices, opts.moduleOptions?.[m.name]));
  } catch (err) {
    for (const instance of [...running.values()].reverse()) await instance.stop().catch(() => undefined);
    await journal.close();
    db.close();
    throw err;
  }
  const instances = [...running.values()];
  // Not ready at once when a writer thread died: the listener answers AR meanwhile.
  const readyCheck = () => db.open && journal.healthy && services.every((s) => s.ready?.() ?? true) && instances.every((i) => i.ready?.() ?? true);
  const routed = instances.filter((i) => i.routes);
  const routes = routed.length
    ? async (ctx: Parameters<NonNullable<ModuleInstance['routes']>>[0]) => {
      for (const i of routed) if (await i.routes!(ctx)) return true;
      return false;
    }
    : undefined;
  const app = createApp({ directory, handleHl7, state, log, readyCheck, ...(routes ? { routes } : {}) });
  const serverOptions = {
    requestTimeout: opts.requestTimeoutMs,
    headersTimeout: Math.min(opts.requestTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(1000, opts.requestTimeoutMs),
    keepAliveTimeout: 5000,
  };
  const handler = app.callback();
  const server: Server = tlsOptions
    ? (createHttpsServer({ ...tlsOptions, ...serverOptions, handshakeTimeout: opts.tlsHandshakeTimeoutMs ?? LISTENER_DEFAULTS.tlsHandshakeTimeoutMs }, handler) as unknown as Server)
    : createHttpServer(serverOptions, handler);
  // `Expect: 100-continue` on a sender's path: the endpoint says "continue" only once identity,
  // content type and the announced length passed, so a refused body is never sent. Elsewhere at once.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!directory.forPath(pathOf(req.url))) res.writeContinue();
    void handler(req, res);
  });
  watchConnections(server, {
    log,
    tls: Boolean(tlsOptions),
    maxConnections: opts.maxConnections ?? LISTENER_DEFAULTS.maxConnections,
    idleTimeoutMs: opts.idleTimeoutMs ?? LISTENER_DEFAULTS.idleTimeoutMs,
    pathOf,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${tlsOptions ? 'https' : 'http'}://${hostForUrl}:${port}`;
  publicUrl ??= url;

  const purge = async () => {
    if (!opts.retentionDays) return 0;
    const n = await journal.purgeContent(Date.now() - opts.retentionDays * 24 * HOUR);
    if (n) log.info({ rows: n, retentionDays: opts.retentionDays }, 'retention: purged message content');
    return n;
  };
  let retentionTimer: NodeJS.Timeout | undefined;
  if (opts.retentionDays) {
    void purge().catch((err) => log.error({ err: (err as Error).message }, 'retention purge failed'));
    retentionTimer = setInterval(() => void purge().catch((err) => log.error({ err: (err as Error).message }, 'retention purge failed')), HOUR);
    retentionTimer.unref();
  }

  state.ready = true;
  log.info({ url, senders: directory.paths, mtls: Boolean(tlsOptions?.requestCert), data: opts.dataDir }, 'listening');

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= (async () => {
    state.shuttingDown = true;
    if (retentionTimer) clearInterval(retentionTimer);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + opts.shutdownTimeoutMs;
    while (state.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (state.inFlight > 0) log.warn({ inFlight: state.inFlight }, 'shutdown: gave up waiting for in-flight requests');
    // Responses of drained requests are being written; give them a moment, then cut the rest.
    server.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, Math.max(0, Math.min(1000, deadline - Date.now()))))]);
    server.closeAllConnections();
    for (const s of services.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'shutdown: a service failed to stop');
      }
    }
    for (const [name, instance] of [...running].reverse()) {
      try {
        await instance.stop();
      } catch (err) {
        log.error({ module: name, err: (err as Error).message }, 'shutdown: a module failed to stop');
      }
    }
    traffic.stop();
    await journal.close();
    db.close();
    log.info('stopped');
  })());

  return {
    url, port, server, db, dbFile, sql, journal, events, inbound, state, traffic, fatal, modules: running, moduleEvents, purge, close,
    addService: (s) => void services.push(s),
    attachEngine: (e) => {
      engine = e;
      e.outboundHeaders = outboundHeaders;
    },
    outboundHeaders,
  };
}
