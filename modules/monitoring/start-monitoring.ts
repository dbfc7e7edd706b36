// The monitoring module at work: per-minute rollups of the traffic and the workflow runs (always,
// once the plan has a monitoring block), the Prometheus listener (`metrics`), the dashboard's own
// listener (`dashboard`) and OpenTelemetry traces (`tracing`). It listens to the runtime's events
// only: the listener's answered messages, the engine's settled runs, the journal's commits and
// the other modules' announcements (SMART launch outcomes, Bulk FHIR exports' states). Its tables and the journal it reads
// are the shared database's (`services.sql`): with a PostgreSQL store, the cluster's.
import { openDatabase } from '../../runtime/journal/open-database.ts';
import { sqliteSql } from '../../runtime/store/shared-sql.ts';
import type { FinishedEvent } from '../../runtime/journal/run-events.ts';
import type { BulkExportEvent, InboundMessageEvent, JournalCommit, ModuleInstance, ModuleServices, SmartLaunchEvent } from './seam.ts';
import { BulkExports } from './bulk-exports.ts';
import { DEFAULT_RETENTION_MS, monitoringPlan } from './monitoring-plan.ts';
import { Rollups } from './rollups.ts';
import { purgeMonitoring } from './retention.ts';
import { Metrics, stepApis } from './metrics.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { startDashboard, type Dashboard } from './dashboard/dashboard-server.ts';
import { AuditLog } from './dashboard/audit-log.ts';
import { checkMonitoring } from './checks.ts';
import type { TracingOptions } from './tracing.ts';
import { srcLine } from '../../runtime/platform/config/source-location.ts';

const HOUR = 3_600_000;

export interface MonitoringInstance extends ModuleInstance {
  rollups: Rollups;
  /** Bulk FHIR exports as announced (plans with `bulk` blocks). */
  exports?: BulkExports;
  metrics?: Metrics;
  metricsUrl?: string;
  dashboardUrl?: string;
  audit: AuditLog;
  /** Purges rollups and audit entries older than the retention now; the rows removed (0 on the runtimes of a cluster that did not purge). */
  purge(now?: number): Promise<number>;
}

export interface MonitoringOptions {
  /** Tracing's batch export delay and how long a run waits for its message's span (tests shorten them). */
  tracing?: Pick<TracingOptions, 'exportDelayMs' | 'waitForMessageMs'>;
}

export async function startMonitoring(services: ModuleServices, options: MonitoringOptions = {}): Promise<MonitoringInstance> {
  const plan = monitoringPlan(services.plan) ?? {};
  const log = services.log.child({ module: 'monitoring' });
  const problems = checkMonitoring(plan);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(errors.map((p) => `${srcLine(p.src)}: ${p.code} ${p.summary}: ${p.hint}`).join('\n'));
  for (const p of problems) log.warn({ code: p.code, at: srcLine(p.src) }, p.summary);
  // With SQLite, rollups are written once a second; losing the last second in a power cut is
  // acceptable, so the module's writes use a connection that does not wait for the disk on each
  // commit (the same file as services.sql).
  const own = services.sql.dialect === 'sqlite' && !services.db.memory ? openDatabase(services.dbFile, { migrate: false }) : undefined;
  own?.pragma('synchronous = NORMAL');
  const sql = own ? sqliteSql(own) : services.sql;
  const rollups = new Rollups(sql).start();
  let warnedAt = -Infinity;
  rollups.onError = (err) => {
    // Once a minute at most while the database is unreachable (the flush is tried every second).
    if (Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    log.warn({ err: err.message }, 'monitoring: cannot write the rollups; they are kept and written once the database answers');
  };
  const bulkBlocks = Object.keys(services.plan.modules?.bulk ?? {});
  const metrics = plan.metrics
    ? new Metrics(services.sql, services.plan.senders.map((s) => s.name), stepApis(services.plan.workflows), services.plan.launches.map((l) => l.name), bulkBlocks)
    : undefined;
  const exports = bulkBlocks.length ? await new BulkExports(sql).start() : undefined;
  if (exports) exports.onError = rollups.onError;
  const audit = new AuditLog(sql);

  const onMessage = (e: InboundMessageEvent) => {
    rollups.countMessage(e.sender, e.messageType, e.ackCode, e.receivedAt, e.latencyMs);
    metrics?.countMessage(e.sender, e.messageType, e.ackCode, e.latencyMs);
  };
  const onFinished = (e: FinishedEvent) => {
    const workflow = e.workflow ?? '(unknown)';
    rollups.countRun(workflow, e.status, Date.now());
    void metrics?.countRun(workflow, e.status, e.runId).catch((err) => log.warn({ err: (err as Error).message }, 'monitoring: could not read a run\'s steps'));
  };
  const onCommit = (c: JournalCommit) => metrics!.observeCommit(c.entries, c.seconds);
  const onLaunch = (e: SmartLaunchEvent) => {
    rollups.countLaunch(e.launch, e.outcome, Date.now());
    metrics?.countLaunch(e.launch, e.outcome);
  };
  services.inbound.on('message', onMessage);
  services.events.on('finished', onFinished);
  if (metrics) services.journal.on('commit', onCommit);
  const onExport = (e: BulkExportEvent) => {
    const added = exports?.take(e);
    if (added) metrics?.countBulk(added);
  };
  services.moduleEvents.on('smart-launch', onLaunch);
  services.moduleEvents.on('bulk-export', onExport);

  const retentionMs = plan.dashboard?.retentionMs ?? DEFAULT_RETENTION_MS;
  const purge = async (now = Date.now()) => {
    await rollups.flush().catch(() => undefined);
    const n = await purgeMonitoring(sql, now - retentionMs);
    if (n) log.info({ rows: n, retentionDays: retentionMs / 86_400_000 }, 'monitoring: purged rollups and audit entries past retention');
    return n;
  };
  const purgeSafely = () => void purge().catch((err) => log.error({ err: (err as Error).message }, 'monitoring: retention purge failed'));
  purgeSafely();
  const retentionTimer = setInterval(purgeSafely, HOUR);
  retentionTimer.unref();

  let metricsServer: MetricsServer | undefined;
  let dashboard: Dashboard | undefined;
  let tracing: { stop(): Promise<void> } | undefined;
  let stopHeaders: (() => void) | undefined;
  const stop = async () => {
    clearInterval(retentionTimer);
    stopHeaders?.();
    services.inbound.off('message', onMessage);
    services.events.off('finished', onFinished);
    services.journal.off('commit', onCommit);
    services.moduleEvents.off('smart-launch', onLaunch);
    services.moduleEvents.off('bulk-export', onExport);
    await tracing?.stop();
    await dashboard?.close();
    await metricsServer?.close();
    await rollups.stop().catch((err) => log.warn({ err: (err as Error).message }, 'monitoring: the last second of rollups could not be written'));
    await exports?.stop().catch((err) => log.warn({ err: (err as Error).message }, 'monitoring: the exports\' last states could not be written'));
    own?.close();
  };
  try {
    if (plan.tracing) {
      // The OpenTelemetry SDK loads only for plans that trace.
      const { Tracing } = await import('./tracing.ts');
      const t = new Tracing({ endpoint: services.resolve(plan.tracing.otlp), service: plan.tracing.service ?? 'hdc', ...options.tracing }, services.sql, services.inbound, services.events, log);
      tracing = t;
      // Each HTTP step's requests carry the trace context of the step span exported later.
      stopHeaders = services.outboundHeaders((step) => t.headers(step));
    }
    if (plan.metrics && metrics) metricsServer = await startMetricsServer(plan.metrics, metrics, log);
    if (plan.dashboard) {
      dashboard = await startDashboard(plan.dashboard, { services, rollups, audit, sql, log, ...(exports ? { exports, bulkBlocks } : {}) });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    rollups,
    audit,
    purge,
    ...(exports ? { exports } : {}),
    ...(metrics ? { metrics } : {}),
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    ...(dashboard ? { dashboardUrl: dashboard.url } : {}),
    stop,
  };
}
