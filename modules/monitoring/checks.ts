// The module's own checks of plan.modules.monitoring (HDC8100–HDC8106): run by the compiler's
// vocabulary registry on the lowered block, and again by the runtime (with env()/file() values
// resolved) before it opens a listener, so a hand-written plan gets the same answers. Pure: no I/O.
import type { MonitoringPlan } from './monitoring-plan.ts';
import { parseListen } from './monitoring-plan.ts';

export interface MonitoringProblem {
  code: 'HDC8100' | 'HDC8101' | 'HDC8102' | 'HDC8103' | 'HDC8104' | 'HDC8105' | 'HDC8106';
  severity: 'error' | 'warning';
  summary: string;
  /** How to fix it. */
  hint: string;
  src: string;
  /** The block and the setting the compiler points at. */
  block: 'dashboard' | 'metrics' | 'tracing';
  setting?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function address(listen: string): { host: string; port: number } | null {
  try {
    return parseListen(listen, '');
  } catch {
    return null;
  }
}

export function checkMonitoring(m: MonitoringPlan): MonitoringProblem[] {
  const out: MonitoringProblem[] = [];
  const listens: Array<{ what: 'metrics' | 'dashboard'; listen: string; src: string }> = [];
  if (m.metrics) listens.push({ what: 'metrics', listen: m.metrics.listen, src: m.metrics.src });
  if (m.dashboard) listens.push({ what: 'dashboard', listen: m.dashboard.listen, src: m.dashboard.src });
  for (const l of listens) {
    // A missing listen is the compiler's (a required setting): nothing more to say here.
    if (l.listen && !address(l.listen)) {
      out.push({ code: 'HDC8100', severity: 'error', summary: `${l.what}: listen "${l.listen}" is not HOST:PORT`, hint: 'Write the address and port, e.g. listen "127.0.0.1:9464".', src: l.src, block: l.what, setting: 'listen' });
    }
  }
  const d = m.dashboard;
  if (d) {
    const a = address(d.listen);
    if (a && !LOOPBACK.test(a.host)) {
      out.push({ code: 'HDC8101', severity: 'error', summary: `the dashboard would serve plain HTTP on ${a.host}`, hint: 'Listen on 127.0.0.1 (or ::1) and put an HTTPS reverse proxy in front of it.', src: d.src, block: 'dashboard', setting: 'listen' });
    }
    const seen = new Set<string>();
    for (const r of d.roles) {
      if (seen.has(r.name)) out.push({ code: 'HDC8102', severity: 'error', summary: `role ${r.name} is declared twice`, hint: 'Put all its groups in one role block.', src: r.src ?? d.src, block: 'dashboard', setting: 'role' });
      seen.add(r.name);
      if (!r.groups.length) out.push({ code: 'HDC8102', severity: 'error', summary: `role ${r.name} grants no group`, hint: `Name the groups: role ${r.name} { group "integration-team" }.`, src: r.src ?? d.src, block: 'dashboard', setting: 'role' });
    }
    if (!seen.has('operator')) {
      out.push({ code: 'HDC8103', severity: 'warning', summary: 'no operator role: nobody can see message content or replay runs', hint: 'Add role operator { group "…" } if someone should.', src: d.src, block: 'dashboard' });
    }
    if (d.retentionMs !== undefined && d.retentionMs < 86_400_000) {
      out.push({ code: 'HDC8105', severity: 'error', summary: 'retention shorter than one day', hint: 'The day and 30-day charts need the rollups: retention 30d.', src: d.src, block: 'dashboard', setting: 'retention' });
    }
    if (d.sessionIdleMs !== undefined && d.sessionIdleMs < 60_000) {
      out.push({ code: 'HDC8105', severity: 'error', summary: 'session_idle shorter than one minute', hint: 'Sessions renew once a minute: session_idle 15m or more.', src: d.src, block: 'dashboard', setting: 'session_idle' });
    }
  }
  if (m.metrics && m.dashboard) {
    const x = address(m.metrics.listen);
    const y = address(m.dashboard.listen);
    if (x && y && x.port !== 0 && x.port === y.port && (x.host === y.host || x.host === '0.0.0.0' || y.host === '0.0.0.0')) {
      out.push({ code: 'HDC8104', severity: 'error', summary: `the dashboard and the metrics both listen on ${m.dashboard.listen}`, hint: 'Give each its own port, e.g. 9443 and 9464.', src: m.metrics.src, block: 'metrics', setting: 'listen' });
    }
  }
  if (m.tracing && typeof m.tracing.otlp === 'string' && m.tracing.otlp && !/^https?:\/\/[^/\s]+/.test(m.tracing.otlp)) {
    out.push({ code: 'HDC8106', severity: 'error', summary: `tracing: otlp "${m.tracing.otlp}" is not an http(s) URL`, hint: 'Give the collector\'s OTLP/HTTP base URL, e.g. otlp env("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://127.0.0.1:4318".', src: m.tracing.src, block: 'tracing', setting: 'otlp' });
  }
  return out;
}
