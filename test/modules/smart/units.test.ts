// The pieces of a launch on their own: redirect targets only from the plan (a target outside the
// allow-list does not compile), rule choice and parameter encoding, the signing scheme, scopes,
// DN escaping, password hashes, login throttling, and the launch session's single-use state in a
// real SQLite file.
import { readFileSync } from 'node:fs';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../../compiler/api.ts';
import { formatSource } from '../../../compiler/format/format.ts';
import type { Launch } from '../../../plan/plan.types.ts';
import { escapeDnValue } from '../../../runtime/platform/login/ldap-login.ts';
import { hashPassword, verifyPassword } from '../../../runtime/platform/login/password-hash.ts';
import { LoginRateLimiter } from '../../../runtime/platform/login/rate-limit.ts';
import { authorizeUser } from '../../../runtime/platform/login/create-login.ts';
import { pickJwk } from '../../../runtime/workflows/auth/private-key.ts';
import { launchScope, missingScopes, readLaunchContext } from '../../../modules/smart/launch-scope.ts';
import { chooseRedirect } from '../../../modules/smart/redirect-rules.ts';
import { canonicalQuery, canonicalSigned, signPairs, verifySignedUrl } from '../../../modules/smart/signed-params.ts';
import { evaluate } from '../../../runtime/workflows/expr/evaluate.ts';
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

test('signing: hdc_exp and hdc_sig over the target and the sorted, encoded query; verification snippet agrees', () => {
  const now = Date.UTC(2030, 0, 1);
  const target = 'https://forms.example.org/insured';
  const signed = signPairs(target, [['b', '2'], ['a', 'x y'], ['a', 'é']], 'secret', 300, now);
  assert.equal(signed.slice(0, 4), [['b', '2'], ['a', 'x y'], ['a', 'é'], ['hdc_exp', String(now / 1000 + 300)]]);
  const canonical = `https://forms.example.org/insured\na=%C3%A9&a=x%20y&b=2&hdc_exp=${now / 1000 + 300}`;
  assert.is(canonicalSigned(target, signed), canonical);
  assert.is(canonicalQuery(signed), canonical.split('\n')[1]);
  assert.is(signed[4]![1], createHmac('sha256', 'secret').update(canonical).digest('base64url'));
  const url = new URL(target);
  for (const [k, v] of signed) url.searchParams.append(k, v);
  assert.equal(verifySignedUrl(url, 'secret', now), { ok: true });
  assert.equal(verifySignedUrl(url.href, 'secret', now), { ok: true });
  assert.equal(verifySignedUrl(url, 'other', now), { ok: false, reason: 'bad-signature' });
  assert.equal(verifySignedUrl(url, 'secret', now + 301_000), { ok: false, reason: 'expired' });
  // The same query on another page of the same site, or another site, does not verify.
  for (const elsewhere of ['https://forms.example.org/self-pay', 'https://evil.example.org/insured', 'https://forms.example.org:8443/insured']) {
    const moved = new URL(elsewhere);
    moved.search = url.search;
    assert.equal(verifySignedUrl(moved, 'secret', now), { ok: false, reason: 'bad-signature' }, elsewhere);
  }
  const tampered = new URL(url);
  tampered.searchParams.set('hdc_exp', String(now / 1000 + 9999));
  assert.equal(verifySignedUrl(tampered, 'secret', now), { ok: false, reason: 'bad-signature' });
  const added = new URL(url);
  added.searchParams.append('extra', '1');
  assert.equal(verifySignedUrl(added, 'secret', now), { ok: false, reason: 'bad-signature' });
  assert.equal(verifySignedUrl('https://forms.example.org/insured?a=1', 'secret', now), { ok: false, reason: 'missing' });
  // The Node.js snippet of docs/smart.md, verbatim, agrees.
  const verifyHdcUrl = docsNodeSnippet();
  assert.ok(verifyHdcUrl(url.href, 'secret', now));
  const moved = new URL('https://forms.example.org/self-pay');
  moved.search = url.search;
  assert.not.ok(verifyHdcUrl(moved.href, 'secret', now));
});

/** The verification function of docs/smart.md's Node.js snippet. */
function docsNodeSnippet(): (href: string, secret: string, now?: number) => boolean {
  const docs = readFileSync(new URL('../../../docs/smart.md', import.meta.url), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(docs)![1]!
    .replace(/^import .*$/m, '')
    .replace('export function', 'return function');
  return new Function('createHmac', 'timingSafeEqual', code)(createHmac, timingSafeEqual) as (href: string, secret: string, now?: number) => boolean;
}

test('the launch signs with the plan\'s ttl; reserved names are refused', () => {
  const l = launchOf('otherwise to "https://forms.example.org/o" with { a: "1" }', 'sign env("K") 2m');
  const r = chooseRedirect(l, { evaluate: (e) => evaluate(e, { vars: {} }), signingSecret: 'k', now: 1_000_000 });
  assert.is(r.params.hdc_exp, String(1000 + 120));
  // A hand-edited plan that uses a reserved name is refused at run time too.
  const bad = launchOf('otherwise to "https://forms.example.org/o" with { sig: "x" }', 'sign env("K") 2m');
  (bad.redirect.otherwise.with as unknown as { object: Array<{ key: string }> }).object[0]!.key = 'hdc_sig';
  assert.throws(() => chooseRedirect(bad, { evaluate: (e) => evaluate(e, { vars: {} }), signingSecret: 'k' }), /reserved/);
});

test('with { hdc_sig: … } or hdc_exp is a compile error (HDC5010) with a rename suggestion', () => {
  for (const key of ['hdc_sig', 'hdc_exp']) {
    const text = hdc('sign env("K") 2m', `when true to "https://forms.example.org/a" with { ${key}: "x" }\n    otherwise to "https://forms.example.org/o" with { a: "1" }`);
    const { plan, diagnostics } = compileSources(new Map([['t.hdc', text]]));
    assert.is(plan, undefined, key);
    const d = diagnostics.find((x) => x.code === 'HDC5010');
    assert.ok(d, key);
    assert.is(d!.severity, 'error');
    assert.is(text.split('\n')[d!.range.start.line - 1]!.slice(d!.range.start.col - 1, d!.range.end.col - 1), key);
  }
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

test('extends: a launch reuses another, overriding settings by key and blocks whole; fmt keeps it', () => {
  const base = hdc('targets "https://forms.example.org/a", "https://forms.example.org/o"\n  sign env("K") 2m', 'when true to "https://forms.example.org/a" with { a: patient.id }\n    otherwise to "https://forms.example.org/o"');
  const text = `${base}
smart launch second extends forms {
  client_id env("ID2")
  private_key file("keys/second.jwks") kid "k2"
  redirect { otherwise to "https://forms.example.org/o" }
}
smart launch third extends second {
  issuers "https://other-ehr.example.org/R4"
}
`;
  const { plan, diagnostics } = compileSources(new Map([['t.hdc', text]]));
  assert.ok(plan, diagnostics.map((d) => `${d.code} ${d.summary}`).join('; '));
  const [forms, second, third] = plan!.launches;
  assert.is((second!.clientId as { env: string }).env, 'ID2');
  assert.is((second!.kid as { lit?: string }).lit ?? second!.kid, 'k2');
  assert.equal(second!.clientSecret, forms!.clientSecret);
  assert.equal(second!.fetch.map((f) => f.kind), ['fhir']);
  assert.is(second!.redirect.rules.length, 0);
  assert.equal(second!.sign, forms!.sign);
  assert.equal(third!.issuers, ['https://other-ehr.example.org/R4']);
  assert.is((third!.clientId as { env: string }).env, 'ID2');
  assert.is(third!.scope, forms!.scope);
  const formatted = formatSource(text, 't.hdc');
  assert.match(formatted.text ?? '', /smart launch second extends forms \{/);
  assert.match(formatted.text ?? '', /smart launch third extends second \{/);
});

test('extends: an unknown base or a cycle is HDC5011', () => {
  const unknown = compileSources(new Map([['t.hdc', `${hdc('', 'otherwise to "https://forms.example.org/o"')}\nsmart launch b extends nope { client_id "x" }\n`]]));
  assert.ok(unknown.diagnostics.some((d) => d.code === 'HDC5011' && /not a launch of this file/.test(d.summary)));
  const cycle = compileSources(new Map([['t.hdc', 'smart launch a extends b { client_id "x" }\nsmart launch b extends a { client_id "y" }\n']]));
  assert.ok(cycle.diagnostics.some((d) => d.code === 'HDC5011' && /extends itself/.test(d.summary)));
});

test('redirect targets: http to a loopback address compiles with a warning (HDC5013) and redirects; elsewhere HDC5002', () => {
  const { plan, diagnostics } = compileSources(new Map([['t.hdc', hdc('', 'when true to "http://127.0.0.1:8080/form"\n    otherwise to "http://localhost:3000/o"')]]));
  assert.ok(plan, diagnostics.map((d) => d.code).join());
  assert.equal(diagnostics.filter((d) => d.code === 'HDC5013').map((d) => d.severity), ['warning', 'warning']);
  const r = chooseRedirect(plan!.launches[0]!, { evaluate: () => true });
  assert.is(r.url, 'http://127.0.0.1:8080/form');
  const remote = compileSources(new Map([['t.hdc', hdc('', 'otherwise to "http://forms.example.org/o"')]]));
  assert.ok(remote.diagnostics.some((d) => d.code === 'HDC5002'));
});

test('a JWKS as private_key: the key by kid, else the one key for the alg; ambiguity is an error', () => {
  const rsa = (kid: string) => ({ kty: 'RSA', kid, d: 'x', n: 'n', e: 'AQAB' });
  const ec = { kty: 'EC', crv: 'P-384', kid: 'e1', d: 'x', x: 'x', y: 'y' };
  assert.is(pickJwk({ keys: [rsa('r1'), ec] }, 'ES384').kid, 'e1');
  assert.is(pickJwk({ keys: [rsa('r1'), ec] }, 'RS384').kid, 'r1');
  assert.is(pickJwk({ keys: [rsa('r1'), rsa('r2')] }, 'RS384', 'r2').kid, 'r2');
  assert.throws(() => pickJwk({ keys: [rsa('r1'), rsa('r2')] }, 'RS384'), /2 private keys for RS384: set kid/);
  assert.throws(() => pickJwk({ keys: [rsa('r1')] }, 'RS384', 'nope'), /no private key with kid "nope"/);
  assert.throws(() => pickJwk({ keys: [{ kty: 'RSA', kid: 'pub', n: 'n', e: 'AQAB' }] }, 'RS384'), /no private key/);
});

test('--public-url: https (http only on loopback), trailing slash dropped; HDC_PUBLIC_URL', () => {
  assert.is(parseRunOptions(['p.json', '--public-url', 'https://connector.example.org/'], {}, '/tmp').publicUrl, 'https://connector.example.org');
  assert.is(parseRunOptions(['p.json'], { HDC_PUBLIC_URL: 'http://127.0.0.1:8443' }, '/tmp').publicUrl, 'http://127.0.0.1:8443');
  assert.is(parseRunOptions(['p.json'], {}, '/tmp').publicUrl, undefined);
  assert.throws(() => parseRunOptions(['p.json', '--public-url', 'http://connector.example.org'], {}, '/tmp'), (e: unknown) => e instanceof OptionsError);
});

test.run();
