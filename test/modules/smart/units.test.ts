// The pieces of a launch on their own: redirect targets only from the plan (a target outside the
// allow-list does not compile), rule choice and parameter encoding, the signing scheme, scopes,
// DN escaping, password hashes, login throttling, and the launch session's single-use state in a
// real SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../../compiler/api.ts';
import type { Launch } from '../../../plan/plan.types.ts';
import { escapeDnValue } from '../../../runtime/platform/login/ldap-login.ts';
import { hashPassword, verifyPassword } from '../../../runtime/platform/login/password-hash.ts';
import { LoginRateLimiter } from '../../../runtime/platform/login/rate-limit.ts';
import { authorizeUser } from '../../../runtime/platform/login/create-login.ts';
import { LaunchSessions, launchSessionMigrations } from '../../../modules/smart/launch-sessions.ts';
import { coreMigrations } from '../../../runtime/journal/core-migrations.ts';
import { launchScope, missingScopes, readLaunchContext } from '../../../modules/smart/launch-scope.ts';
import { chooseRedirect } from '../../../modules/smart/redirect-rules.ts';
import { canonicalQuery, signPairs, verifySignedQuery } from '../../../modules/smart/signed-params.ts';
import { evaluate } from '../../../runtime/workflows/expr/evaluate.ts';
import { openDatabase } from '../../../runtime/journal/open-database.ts';
import { OptionsError, parseRunOptions } from '../../../runtime/platform/config/run-options.ts';
import { compileHdc } from './smart-harness.ts';

const hdc = (targets: string, rules: string) => `
smart launch forms {
  client_id env("ID")
  client_secret env("SECRET")
  scope "launch patient/Patient.rs"
  issuers "https://ehr.example.org/R4"
  ${targets}
  fetch { patient = read Patient context.patient }
  redirect {
    ${rules}
  }
}`;

test('a redirect target outside the declared targets is a compile error (HDC5003)', () => {
  const { plan, diagnostics } = compileSources(new Map([['t.hdc', hdc(
    'targets "https://forms.example.org/a"',
    'when patient.gender == "female" to "https://evil.example.org/a"\n    otherwise to "https://forms.example.org/a"',
  )]]));
  assert.is(plan, undefined);
  assert.ok(diagnostics.some((d) => d.code === 'HDC5003' && d.severity === 'error'));
});

test('a redirect target that is not an absolute https URL is a compile error (HDC5002)', () => {
  for (const bad of ['"http://forms.example.org/a"', '"/relative"', '"javascript:alert(1)"']) {
    const { plan, diagnostics } = compileSources(new Map([['t.hdc', hdc('', `otherwise to ${bad}`)]]));
    assert.is(plan, undefined, bad);
    assert.ok(diagnostics.some((d) => d.code === 'HDC5002'), bad);
  }
});

function launchOf(rules: string, extra = ''): Launch {
  return compileHdc(hdc(extra, rules)).launches[0]!;
}

test('rules: the first that holds wins, else otherwise; values encoded, null dropped, lists repeat', () => {
  const l = launchOf([
    'when patient.gender == "female" to "https://forms.example.org/f" with { name: patient.name, n: 3 }',
    'when patient.gender == "male" to "https://forms.example.org/m" with { given: patient.name.given, none: patient.birthDate }',
    'otherwise to "https://forms.example.org/o"',
  ].join('\n    '));
  const run = (patient: Record<string, unknown>) => chooseRedirect(l, { evaluate: (e) => evaluate(e, { vars: { patient } }) });
  const f = run({ gender: 'female', name: 'Zoë & "co" ?#=' });
  assert.is(f.index, 0);
  assert.is(new URL(f.url).searchParams.get('name'), 'Zoë & "co" ?#=');
  assert.is(new URL(f.url).searchParams.get('n'), '3');
  const m = run({ gender: 'male', name: { given: ['a', 'b'] } });
  assert.is(m.index, 1);
  assert.equal(new URL(m.url).searchParams.getAll('given'), ['a', 'b']);
  assert.is(new URL(m.url).searchParams.has('none'), false);
  const o = run({ gender: 'other' });
  assert.is(o.index, -1);
  assert.is(o.url, 'https://forms.example.org/o');
});

test('a hand-edited plan cannot redirect to a non-https target', () => {
  const l = launchOf('otherwise to "https://forms.example.org/o"');
  l.redirect.otherwise.to = 'http://evil.example.org/';
  assert.throws(() => chooseRedirect(l, { evaluate: () => null }), /not https/);
});

test('signing: hdc_exp and hdc_sig over the sorted, encoded query; verification snippet agrees', () => {
  const now = Date.UTC(2030, 0, 1);
  const signed = signPairs([['b', '2'], ['a', 'x y'], ['a', 'é']], 'secret', 300, now);
  assert.equal(signed.slice(0, 4), [['b', '2'], ['a', 'x y'], ['a', 'é'], ['hdc_exp', String(now / 1000 + 300)]]);
  const canonical = `a=%C3%A9&a=x%20y&b=2&hdc_exp=${now / 1000 + 300}`;
  assert.is(canonicalQuery(signed), canonical);
  assert.is(signed[4]![1], createHmac('sha256', 'secret').update(canonical).digest('base64url'));
  const q = new URLSearchParams(signed);
  assert.equal(verifySignedQuery(q, 'secret', now), { ok: true });
  assert.equal(verifySignedQuery(q, 'other', now), { ok: false, reason: 'bad-signature' });
  assert.equal(verifySignedQuery(q, 'secret', now + 301_000), { ok: false, reason: 'expired' });
  const tampered = new URLSearchParams(q);
  tampered.set('hdc_exp', String(now / 1000 + 9999));
  assert.equal(verifySignedQuery(tampered, 'secret', now), { ok: false, reason: 'bad-signature' });
  const added = new URLSearchParams(q);
  added.append('extra', '1');
  assert.equal(verifySignedQuery(added, 'secret', now), { ok: false, reason: 'bad-signature' });
  assert.equal(verifySignedQuery(new URLSearchParams('a=1'), 'secret', now), { ok: false, reason: 'missing' });
});

test('the launch signs with the plan\'s ttl; reserved names are refused', () => {
  const l = launchOf('otherwise to "https://forms.example.org/o" with { a: "1" }', 'sign env("K") 2m');
  const r = chooseRedirect(l, { evaluate: (e) => evaluate(e, { vars: {} }), signingSecret: 'k', now: 1_000_000 });
  assert.is(r.params.hdc_exp, String(1000 + 120));
  const bad = launchOf('otherwise to "https://forms.example.org/o" with { hdc_sig: "x" }', 'sign env("K") 2m');
  assert.throws(() => chooseRedirect(bad, { evaluate: (e) => evaluate(e, { vars: {} }), signingSecret: 'k' }), /reserved/);
});

test('scopes: launch for EHR launch, launch/patient for standalone; v1 and v2 grants compare', () => {
  assert.is(launchScope('openid patient/Patient.rs', 'ehr'), 'launch openid patient/Patient.rs');
  assert.is(launchScope('launch openid patient/Patient.rs', 'standalone'), 'launch/patient openid patient/Patient.rs');
  assert.is(launchScope('launch/encounter patient/Patient.rs', 'standalone'), 'launch/encounter patient/Patient.rs');
  assert.equal(missingScopes('launch openid patient/Patient.rs patient/Coverage.rs', 'launch patient/Patient.read'), ['patient/Coverage.rs']);
  assert.equal(missingScopes('patient/Observation.rs?category=vital-signs', 'patient/Observation.rs?category=vital-signs'), []);
  assert.equal(readLaunchContext({ access_token: 'x', patient: 'p', fhirContext: [{ reference: 'Encounter/1' }], tenant: 't', other: 1 }), {
    patient: 'p', fhirContext: [{ reference: 'Encounter/1' }], tenant: 't',
  });
});

test('LDAP DN values are escaped (RFC 4514)', () => {
  assert.is(escapeDnValue('carol'), 'carol');
  assert.is(escapeDnValue('a,ou=admins'), 'a\\,ou\\=admins');
  assert.is(escapeDnValue(' #x '), '\\ #x\\ ');
  assert.is(escapeDnValue('a+b"c\\d<e>f;g'), 'a\\+b\\"c\\\\d\\<e\\>f\\;g');
});

test('password hashes: scrypt, salted, verified in constant form; foreign strings never match', async () => {
  const h1 = await hashPassword('correct horse', { ln: 12, r: 8, p: 1 });
  const h2 = await hashPassword('correct horse', { ln: 12, r: 8, p: 1 });
  assert.match(h1, /^\$scrypt\$ln=12,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.is.not(h1, h2);
  assert.ok(await verifyPassword('correct horse', h1));
  assert.not.ok(await verifyPassword('correct horsE', h1));
  assert.not.ok(await verifyPassword('x', 'plaintext'));
  assert.not.ok(await verifyPassword('x', '$scrypt$ln=40,r=8,p=1$AAAA$AAAA'));
});

test('login throttling: per address and user name, a success resets the user count', () => {
  let now = 0;
  const rl = new LoginRateLimiter({ perUser: 2, perAddress: 3, windowMs: 1000, now: () => now });
  rl.failed('1.1.1.1', 'a');
  assert.ok(rl.allowed('1.1.1.1', 'a'));
  rl.failed('1.1.1.1', 'A');
  assert.not.ok(rl.allowed('1.1.1.1', 'a'));
  assert.ok(rl.allowed('2.2.2.2', 'a'));
  rl.failed('1.1.1.1', 'b');
  assert.not.ok(rl.allowed('1.1.1.1', 'c'));
  now = 1001;
  assert.ok(rl.allowed('1.1.1.1', 'a'));
});

test('require and map over claims', () => {
  const plan = compileHdc(hdc('', 'otherwise to "https://f.example.org/"').replace('fetch {', 'login users {\n    require "clinicians" in claims.groups and claims.active == true\n    map { email: lower(claims.email) }\n  }\n  fetch {'));
  const login = plan.launches[0]!.login!;
  assert.equal(authorizeUser(login, { groups: ['clinicians'], active: true, email: 'Dr@Acme.org' }), { ok: true, user: { email: 'dr@acme.org' } });
  assert.equal(authorizeUser(login, { groups: ['billing'], active: true }), { ok: false });
  assert.equal(authorizeUser(login, {}), { ok: false });
});

test('launch sessions: state consumed once, expiry, ids stored hashed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-sessions-'));
  try {
    const db = openDatabase(join(dir, 'hdc.sqlite'), { migrations: [...coreMigrations, ...launchSessionMigrations] });
    let now = 1000;
    const s = new LaunchSessions(db, () => now);
    const id = s.create({ launch: 'x', kind: 'ehr', iss: 'https://e', state: 'st', pkceVerifier: 'v', scope: 'launch', ttlMs: 100 });
    const row = s.get(id)!;
    assert.is(row.phase, 'authorize');
    // The cookie's value is not what the table stores.
    assert.is((db.prepare('SELECT count(*) AS n FROM smart_launch_sessions WHERE id_hash = ?').get(id) as { n: number }).n, 0);
    assert.not.ok(s.consumeState(row.idHash, 'other', 'login'));
    assert.ok(s.consumeState(row.idHash, 'st', 'login'));
    assert.not.ok(s.consumeState(row.idHash, 'st', 'login'));
    assert.is(s.get(id)!.pkceVerifier, null);
    const late = s.create({ launch: 'x', kind: 'ehr', iss: 'https://e', state: 'st2', pkceVerifier: 'v', scope: 'launch', ttlMs: 100 });
    now = 1200;
    assert.ok(s.isExpired(s.get(late)!));
    assert.not.ok(s.consumeState(s.get(late)!.idHash, 'st2', 'login'));
    assert.is(s.purge(), 2);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--public-url: https (http only on loopback), trailing slash dropped; HDC_PUBLIC_URL', () => {
  assert.is(parseRunOptions(['p.json', '--public-url', 'https://connector.example.org/'], {}, '/tmp').publicUrl, 'https://connector.example.org');
  assert.is(parseRunOptions(['p.json'], { HDC_PUBLIC_URL: 'http://127.0.0.1:8443' }, '/tmp').publicUrl, 'http://127.0.0.1:8443');
  assert.is(parseRunOptions(['p.json'], {}, '/tmp').publicUrl, undefined);
  assert.throws(() => parseRunOptions(['p.json', '--public-url', 'http://connector.example.org'], {}, '/tmp'), (e: unknown) => e instanceof OptionsError);
});

test.run();
