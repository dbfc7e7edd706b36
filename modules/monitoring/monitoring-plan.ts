// The module's part of the plan (plan.modules.monitoring, see plan.schema.json beside this file):
// what the `dashboard`, `metrics` and `tracing` blocks lower to.
import type { Login, Plan, Src, Value } from '../../plan/plan.types.ts';

export type DashboardRoleName = 'viewer' | 'operator';

export interface DashboardPlan {
  /** host:port of the dashboard's own listener. */
  listen: string;
  login: Login;
  /** Claims groups that grant each role; operator includes everything a viewer sees. */
  roles: Array<{ name: DashboardRoleName; groups: string[]; src?: Src }>;
  /** Per-minute rollups and the audit log are kept this long (default 30 days). */
  retentionMs?: number;
  /** A session ends after this long without a request (default 8 hours). */
  sessionIdleMs?: number;
  src: Src;
}

export interface MetricsPlan {
  listen: string;
  src: Src;
}

export interface TracingPlan {
  otlp: Value;
  service?: string;
  src: Src;
}

export interface MonitoringPlan {
  dashboard?: DashboardPlan;
  metrics?: MetricsPlan;
  tracing?: TracingPlan;
}

export function monitoringPlan(plan: Plan): MonitoringPlan | undefined {
  const m = (plan as Plan & { modules?: Record<string, unknown> }).modules?.monitoring;
  return m && typeof m === 'object' ? (m as MonitoringPlan) : undefined;
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
