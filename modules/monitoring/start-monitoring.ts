// The monitoring module at work: per-minute rollups of the traffic and the workflow runs (always,
// once the plan has a monitoring block), the Prometheus listener (`metrics`), the dashboard's own
// listener (`dashboard`) and OpenTelemetry traces (`tracing`). It listens to the runtime's events
// only: the listener's answered messages, the engine's settled runs, the journal's commits and
// the other modules' announcements (SMART launch outcomes).
import { openDatabase } from '../../runtime/journal/open-database.ts';
import type { FinishedEvent } from '../../runtime/journal/run-events.ts';
import type { InboundMessageEvent, JournalCommit, ModuleInstance, ModuleServices, SmartLaunchEvent } from './seam.ts';
import { DEFAULT_RETENTION_MS, monitoringPlan } from './monitoring-plan.ts';
import { Rollups } from './rollups.ts';
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
  metrics?: Metrics;
  metricsUrl?: string;
  dashboardUrl?: string;
  audit: AuditLog;
  /** Purges rollups and audit entries older than the retention now; the rows removed. */
  purge(now?: number): number;
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
  if (services.plan.store?.kind === 'postgres' && plan.dashboard) {
    // Rollups and metrics come from this runtime's events, wherever the journal lives; the
    // dashboard's search and message pages read the embedded journal only (so far).
    log.warn({ at: srcLine(services.plan.store.src) }, 'monitoring: with store postgres the dashboard counts this runtime\'s traffic, and its message search and pages find no messages');
  }
  // Rollups are written once a second; losing the last second in a power cut is acceptable,
  // so their connection does not wait for the disk on each commit.
  const own = services.db.memory ? undefined : openDatabase(services.dbFile, { migrate: false });
  own?.pragma('synchronous = NORMAL');
  const db = own ?? services.db;
  const rollups = new Rollups(db).start();
  const metrics = plan.metrics
    ? new Metrics(services.db, services.plan.senders.map((s) => s.name), stepApis(services.plan.workflows), services.plan.launches.map((l) => l.name))
    : undefined;
  const audit = new AuditLog(db);

  const onMessage = (e: InboundMessageEvent) => {
    rollups.countMessage(e.sender, e.messageType, e.ackCode, e.receivedAt, e.latencyMs);
    metrics?.countMessage(e.sender, e.messageType, e.ackCode, e.latencyMs);
  };
  const onFinished = (e: FinishedEvent) => {
    const workflow = e.workflow ?? '(unknown)';
    rollups.countRun(workflow, e.status, Date.now());
    metrics?.countRun(workflow, e.status, e.runId);
  };
  const onCommit = (c: JournalCommit) => metrics!.observeCommit(c.entries, c.seconds);
  const onLaunch = (e: SmartLaunchEvent) => {
    rollups.countLaunch(e.launch, e.outcome, Date.now());
    metrics?.countLaunch(e.launch, e.outcome);
  };
  services.inbound.on('message', onMessage);
  services.events.on('finished', onFinished);
  if (metrics) services.journal.on('commit', onCommit);
  services.moduleEvents.on('smart-launch', onLaunch);

  const retentionMs = plan.dashboard?.retentionMs ?? DEFAULT_RETENTION_MS;
  const purge = (now = Date.now()) => {
    const n = rollups.purge(now - retentionMs) + audit.purge(now - retentionMs);
    if (n) log.info({ rows: n, retentionDays: retentionMs / 86_400_000 }, 'monitoring: purged rollups and audit entries past retention');
    return n;
  };
  const purgeSafely = () => {
    try {
      purge();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'monitoring: retention purge failed');
    }
  };
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
    await tracing?.stop();
    await dashboard?.close();
    await metricsServer?.close();
    rollups.stop();
    own?.close();
  };
  try {
    if (plan.tracing) {
      // The OpenTelemetry SDK loads only for plans that trace.
      const { Tracing } = await import('./tracing.ts');
      const t = new Tracing({ endpoint: services.resolve(plan.tracing.otlp), service: plan.tracing.service ?? 'hdc', ...options.tracing }, services.db, services.inbound, services.events, log);
      tracing = t;
      // Each HTTP step's requests carry the trace context of the step span exported later.
      stopHeaders = services.outboundHeaders((step) => t.headers(step));
    }
    if (plan.metrics && metrics) metricsServer = await startMetricsServer(plan.metrics, metrics, log);
    if (plan.dashboard) {
      dashboard = await startDashboard(plan.dashboard, { services, rollups, audit, db, log });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    rollups,
    audit,
    purge,
    ...(metrics ? { metrics } : {}),
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    ...(dashboard ? { dashboardUrl: dashboard.url } : {}),
    stop,
  };
}
