// What the monitoring module adds to the language: the `dashboard`, `metrics` and `tracing`
// blocks. Data only: the compiler's vocabulary registry reads it for checking, completion, hover,
// `hdc explain` and the reference docs; the blocks lower into plan.modules.monitoring (the shape
// is plan.schema.json beside this file).
import type { SettingSpec, SettingsSpec } from '../../compiler/specs/settings.ts';
import { loginSpecs } from '../../compiler/specs/settings.ts';
import type { ModuleSpec } from '../../compiler/specs/module-spec.ts';
import { readMonitoringBlocks, type MonitoringBlocks } from './monitoring-plan.ts';
import { checkMonitoring } from './checks.ts';

const listen = (doc: string): SettingSpec => ({ kind: 'string', required: true, doc });

/**
 * The union of the login providers' settings: which apply depends on the kind, so none is
 * required here; the runtime names what a kind lacks when it starts (e.g. "login oidc needs issuer").
 */
const loginBlock: Record<string, SettingSpec> = Object.fromEntries(
  Object.values(loginSpecs).flatMap((kind) => Object.entries(kind)).map(([key, spec]) => [key, { ...spec, required: false }]),
);

const dashboardSettings: SettingsSpec = {
  listen: listen('HOST:PORT of the dashboard\'s own listener, e.g. "127.0.0.1:9443" (plain HTTP, so a loopback address; put an HTTPS proxy in front). Never the partners\' port.'),
  login: {
    kind: 'enum', options: ['users', 'oidc', 'ldap', 'postgres'], required: true, block: loginBlock,
    doc: 'How people sign in: `users` (the runtime\'s users table, managed with `hdc users`), `oidc { issuer … client_id … }`, `ldap { url … bind_dn … }` or `postgres { url … query … }` — the login providers SMART launches use. Roles come from the `groups` claim.',
  },
  role: {
    kind: 'enum', options: ['viewer', 'operator'], repeatable: true,
    block: { group: { kind: 'strings', repeatable: true, doc: 'A group (the login\'s `groups` claim) whose members get this role.' } },
    doc: '`role viewer { group "…" }`: counts, charts and message metadata, content masked. `role operator { group "…" }`: also message content (each view audited), replays and the audit log.',
  },
  retention: { kind: 'duration', doc: 'How long per-minute rollups and the audit log are kept (default 30d).' },
  session_idle: { kind: 'duration', doc: 'A dashboard session ends after this long without a request (default 8h).' },
};

export const spec: ModuleSpec = {
  name: 'monitoring',
  declarations: [
    {
      keyword: 'dashboard', name: 'none', settings: dashboardSettings,
      doc: 'A web dashboard on its own listener: traffic per sender and message type, ACK codes, latency percentiles, workflow runs and dead letters, live; message search and drill-down; replays; an audit log.',
    },
    {
      keyword: 'metrics', name: 'none',
      settings: { listen: listen('HOST:PORT where GET /metrics answers in the Prometheus text format, e.g. "127.0.0.1:9464".') },
      doc: 'Prometheus metrics: messages by sender, type and ACK code, the ACK latency histogram, workflow runs and steps, outbound requests, dead letters, queue depth.',
    },
    {
      keyword: 'tracing', name: 'none',
      settings: {
        otlp: { kind: 'value', required: true, doc: 'The collector\'s OTLP/HTTP base URL, e.g. env("OTEL_EXPORTER_OTLP_ENDPOINT").' },
        service: { kind: 'string', doc: 'service.name of the spans (default "hdc").' },
      },
      doc: 'OpenTelemetry traces over OTLP/HTTP: a span per message, its workflow runs and their steps.',
    },
  ],
  check(blocks) {
    try {
      return checkMonitoring(readMonitoringBlocks(blocks as MonitoringBlocks)).map(({ src: _src, ...p }) => p);
    } catch {
      // Blocks broken enough to defeat the reading have errors of their own already.
      return [];
    }
  },
};
