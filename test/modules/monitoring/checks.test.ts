// The module's checks of its plan part (HDC8100–HDC8106), and the spec's declarations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkMonitoring } from '../../../modules/monitoring/checks.ts';
import { spec } from '../../../modules/monitoring/spec.ts';
import { codes } from '../../../compiler/codes.ts';
import { compile } from '../../../compiler/api.ts';
import { validate } from '../../../plan/validate-plan.js';
import { monitoringPlan } from '../../../modules/monitoring/monitoring-plan.ts';
import type { DashboardPlan } from '../../../modules/monitoring/monitoring-plan.ts';

const S = 'm.hdc:1:1-1:10';
const dashboard = (over: Partial<DashboardPlan> = {}): DashboardPlan => ({
  listen: '127.0.0.1:9443', login: { kind: 'users', src: S },
  roles: [{ name: 'viewer', groups: ['v'] }, { name: 'operator', groups: ['o'] }], src: S, ...over,
});
const codesOf = (m: Parameters<typeof checkMonitoring>[0]) => checkMonitoring(m).map((p) => `${p.code} ${p.severity}`);

test('a good block has no problems', () => {
  assert.equal(codesOf({ dashboard: dashboard(), metrics: { listen: '127.0.0.1:9464', src: S } }), []);
  assert.equal(codesOf({ metrics: { listen: '[::1]:9464', src: S } }), []);
  assert.equal(codesOf({ metrics: { listen: '0.0.0.0:9464', src: S } }), [], 'metrics carry no PHI: any address');
});

test('each problem has its code', () => {
  assert.equal(codesOf({ metrics: { listen: '9464', src: S } }), ['HDC8100 error']);
  assert.equal(codesOf({ dashboard: dashboard({ listen: '0.0.0.0:9443' }) }), ['HDC8101 error']);
  assert.equal(codesOf({ dashboard: dashboard({ roles: [{ name: 'operator', groups: [] }] }) }), ['HDC8102 error']);
  assert.equal(codesOf({ dashboard: dashboard({ roles: [{ name: 'operator', groups: ['a'] }, { name: 'operator', groups: ['b'] }] }) }), ['HDC8102 error']);
  assert.equal(codesOf({ dashboard: dashboard({ roles: [{ name: 'viewer', groups: ['v'] }] }) }), ['HDC8103 warning']);
  assert.equal(codesOf({ dashboard: dashboard(), metrics: { listen: '127.0.0.1:9443', src: S } }), ['HDC8104 error']);
  assert.equal(codesOf({ dashboard: dashboard({ retentionMs: 3_600_000 }) }), ['HDC8105 error']);
  assert.equal(codesOf({ tracing: { otlp: 'http://127.0.0.1:4318', src: S } }), []);
  assert.equal(codesOf({ tracing: { otlp: '127.0.0.1:4318', src: S } }), ['HDC8106 error']);
  for (const p of checkMonitoring({ dashboard: dashboard({ listen: 'x', retentionMs: 1 }) })) {
    assert.ok(p.code in codes, p.code);
    assert.ok(p.hint.length > 10);
  }
});

test('the spec declares the three blocks with their settings', () => {
  const decl = (k: string) => spec.declarations.find((d) => d.keyword === k)!;
  assert.equal(spec.declarations.map((d) => d.keyword).sort(), ['dashboard', 'metrics', 'tracing']);
  const d = decl('dashboard').settings;
  assert.ok(d.listen?.required);
  assert.equal(d.login?.options, ['users', 'oidc', 'ldap', 'postgres']);
  assert.ok(d.login?.block?.issuer && d.login.block.bind_dn);
  assert.equal(d.role?.options, ['viewer', 'operator']);
  assert.ok(d.role?.block?.group);
  assert.is(d.retention?.kind, 'duration');
  assert.ok(decl('metrics').settings.listen?.required);
});

test('the blocks compile into plan.modules.monitoring, and the runtime reads them', () => {
  const r = compile(new Map([['ops.hdc', `dashboard {
  listen "127.0.0.1:9443"
  login oidc {
    issuer "https://idp.example.org"
    client_id "hdc-dashboard"
    client_secret env("IDP_SECRET")
  }
  role viewer { group "integration-viewers" }
  role operator { group "integration-team" "on-call" }
  retention 30d
  session_idle 1h
}
metrics { listen "127.0.0.1:9464" }
tracing { otlp env("OTEL_EXPORTER_OTLP_ENDPOINT") service "hdc-prod" }
`]]));
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(validate(r.plan), JSON.stringify(validate.errors));
  const m = monitoringPlan(r.plan!)!;
  assert.equal(m.dashboard, {
    listen: '127.0.0.1:9443',
    login: { kind: 'oidc', src: 'ops.hdc:1:1-12:2', issuer: 'https://idp.example.org', clientId: 'hdc-dashboard', clientSecret: { env: 'IDP_SECRET', src: 'ops.hdc:6:19-6:36' } },
    roles: [{ name: 'viewer', groups: ['integration-viewers'] }, { name: 'operator', groups: ['integration-team', 'on-call'] }],
    retentionMs: 30 * 86_400_000, sessionIdleMs: 3_600_000, src: 'ops.hdc:1:1-12:2',
  });
  assert.equal(m.metrics, { listen: '127.0.0.1:9464', src: 'ops.hdc:13:1-13:36' });
  assert.equal(m.tracing?.service, 'hdc-prod');
  assert.equal(checkMonitoring(m), []);
  // A misspelt setting is the compiler's: unknown setting for this block.
  const bad = compile(new Map([['bad.hdc', 'metrics { lisen "127.0.0.1:9464" }\n']]));
  assert.ok(bad.diagnostics.some((d) => d.code === 'HDC2005'), JSON.stringify(bad.diagnostics.map((d) => d.code)));
});

test.run();
