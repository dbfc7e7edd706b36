// The module's part of the plan (plan.modules.monitoring, see plan.schema.json beside this file):
// what the `dashboard`, `metrics` and `tracing` blocks lower to.
import type { Login, Plan, Src, Value } from '../../plan/plan.types.ts';

/** The blocks as the compiler lowers them (generated from plan.schema.json beside this file). */
export type MonitoringBlocks = NonNullable<NonNullable<Plan['modules']>['monitoring']>;

export type DashboardRoleName = 'viewer' | 'operator';

/** What the runtime works with: the blocks' settings read into typed options. */
export interface DashboardPlan {
  listen: string;
  login: Login;
  roles: Array<{ name: DashboardRoleName; groups: string[]; src?: Src }>;
  retentionMs?: number;
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

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The plan's monitoring blocks as typed options, or undefined when it has none. */
export function monitoringPlan(plan: Plan): MonitoringPlan | undefined {
  const m = plan.modules?.monitoring;
  return m ? readMonitoringBlocks(m) : undefined;
}

/** The lowered blocks read into typed options. */
export function readMonitoringBlocks(m: MonitoringBlocks): MonitoringPlan {
  const out: MonitoringPlan = {};
  if (m.dashboard) {
    // Blocks the compiler found errors in may lack settings: read what is there.
    const s = m.dashboard.settings ?? ({} as typeof m.dashboard.settings);
    const login = typeof s.login === 'string' ? { value: s.login } : s.login ?? { value: 'users' as const };
    out.dashboard = {
      listen: s.listen ?? '',
      login: {
        kind: login.value, src: m.dashboard.src,
        ...(login.issuer !== undefined ? { issuer: login.issuer } : {}),
        ...(login.client_id !== undefined ? { clientId: login.client_id } : {}),
        ...(login.client_secret !== undefined ? { clientSecret: login.client_secret } : {}),
        ...(login.scope !== undefined ? { scope: login.scope } : {}),
        ...(login.url !== undefined ? { url: login.url } : {}),
        ...(login.bind_dn !== undefined ? { bindDn: login.bind_dn } : {}),
        ...(login.query !== undefined ? { query: login.query } : {}),
      },
      roles: list(s.role).filter((r) => r && typeof r === 'object').map((r) => ({ name: r.value, groups: list(r.group) })),
      ...(s.retention !== undefined ? { retentionMs: s.retention } : {}),
      ...(s.session_idle !== undefined ? { sessionIdleMs: s.session_idle } : {}),
      src: m.dashboard.src,
    };
  }
  if (m.metrics) out.metrics = { listen: m.metrics.settings?.listen ?? '', src: m.metrics.src };
  if (m.tracing) {
    const t = m.tracing.settings ?? ({} as typeof m.tracing.settings);
    out.tracing = { otlp: t.otlp ?? '', ...(t.service ? { service: t.service } : {}), src: m.tracing.src };
  }
  return out;
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
