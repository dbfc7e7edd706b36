// The module's part of the plan (plan.modules.monitoring, see plan.schema.json beside this file):
// what the `dashboard`, `metrics` and `tracing` blocks lower to.
import type { Plan, Src } from '../../plan/plan.types.ts';

/** Generated from plan.schema.json beside this file. */
export type MonitoringPlan = NonNullable<NonNullable<Plan['modules']>['monitoring']>;
export type DashboardPlan = NonNullable<MonitoringPlan['dashboard']>;
export type MetricsPlan = NonNullable<MonitoringPlan['metrics']>;
export type TracingPlan = NonNullable<MonitoringPlan['tracing']>;
export type DashboardRoleName = DashboardPlan['roles'][number]['name'];

export function monitoringPlan(plan: Plan): MonitoringPlan | undefined {
  return plan.modules?.monitoring;
}

export const DEFAULT_RETENTION_MS = 30 * 86_400_000;
export const DEFAULT_SESSION_IDLE_MS = 8 * 3_600_000;

/** "127.0.0.1:9464", "[::1]:9464" → host and port. */
export function parseListen(listen: string, src: Src): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${src}: listen "${listen}" is not HOST:PORT (e.g. "127.0.0.1:9464")`);
  return { host: (m[1] ?? m[2])!, port };
}
