// Logging the user in after the SMART launch, against real directories: an external OIDC
// provider (oidc-provider standing in for Okta/Entra, group claims, `require`), OpenLDAP slapd
// (bind as the templated DN, DN injection, wrong password), the embedded users table managed
// with `hdc users`, and a PostgreSQL users query. The login form's CSRF token and throttling, and
// a refresh with offline_access when the access token expired during the login.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPassword } from '../../../runtime/platform/login/password-hash.ts';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { startIdp, type Idp } from '../../peers/idp.ts';
import { ldapAvailable, startLdap, type LdapServer } from '../../peers/ldap.ts';
import { CookieJar, walkRedirects, type WalkResult } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { skipBecause } from '../../harness/skip.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';
import { compileHdc, freePort, memoryLog, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';

const { child, general } = fixturePatients();
process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'k';
const root = new URL('../../../', import.meta.url).pathname;
const PG_URL = process.env.HDC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const pgTable = `hdc_login_test_${randomBytes(4).toString('hex')}`;

let stack: SmartStack;
let idp: Idp;
let ldap: LdapServer | undefined;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;
let pgReady = false;
const log = memoryLog();

async function pgQuery(sql: string, values: unknown[] = []): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

test.before(async () => {
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const names = ['o', 'l', 'u', 'p', 'r'];
  stack = await startSmartStack({
    fhir: { seed: [child.file, general.file] },
    auth: {
      clients: names.map((n) => ({ clientId: `${n}-app`, clientSecret: 'intake-secret', redirectUris: [`${base}/smart/${n}/callback`] })),
      users: [{ username: 'dr', password: 'pw' }],
      interaction: 'auto',
      accessTokenTtl: 2,
    },
  });
  idp = await startIdp({
    clients: [{ clientId: 'connector', clientSecret: 'idp-secret', redirectUris: [`${base}/smart/o/login/callback`] }],
    users: [
      { username: 'alice', password: 'a', claims: { email: 'alice@acme.org', groups: ['clinicians'] } },
      { username: 'bob', password: 'b', claims: { email: 'bob@acme.org', groups: ['billing'] } },
    ],
    interaction: 'auto',
    autoUser: 'alice',
  });
  if (ldapAvailable()) {
    ldap = await startLdap({
      users: [
        { username: 'carol', password: 'carol-pw', mail: 'carol@acme.org', groups: ['clinicians'] },
        { username: 'dave', password: 'dave-pw', mail: 'dave@acme.org', groups: ['billing'] },
      ],
    });
  }
  try {
    await pgQuery(`CREATE TABLE ${pgTable} (username text primary key, password_hash text not null, email text)`);
    await pgQuery(`INSERT INTO ${pgTable} VALUES ($1, $2, $3)`, ['erin', await hashPassword('erin-password'), 'erin@acme.org']);
    pgReady = true;
  } catch (err) {
    console.log(`PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message}): postgres login test skipped`);
  }
  const common = { fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin, standalone: false };
  const client = (n: string) => `client_id "${n}-app"\n  client_secret env("INTAKE_SECRET")`;
  const text = [
    launchHdc({ ...common, name: 'o', client: client('o'), login: `login oidc {\n    issuer "${idp.issuer}"\n    client_id "connector"\n    client_secret env("IDP_SECRET", "idp-secret")\n    scope "openid email groups"\n    require "clinicians" in claims.groups\n    map { email: claims.email }\n  }` }),
    launchHdc({ ...common, name: 'l', client: client('l'), login: `login ldap {\n    url "${ldap?.url ?? 'ldap://127.0.0.1:1'}"\n    bind_dn "uid={username},ou=people,dc=hdc,dc=test"\n    require "clinicians" in claims.groups\n    map { email: claims.mail }\n  }` }),
    launchHdc({ ...common, name: 'u', client: client('u'), login: 'login users {\n    require "clinicians" in claims.groups\n    map { email: claims.email }\n  }' }),
    launchHdc({ ...common, name: 'p', client: client('p'), login: `login postgres {\n    url env("PG_URL", "${PG_URL}")\n    query "select password_hash, email from ${pgTable} where username = $1"\n    map { email: claims.email }\n  }` }),
    launchHdc({ ...common, name: 'r', client: client('r'), scope: 'launch offline_access patient/Patient.rs patient/MedicationRequest.rs patient/Observation.rs', login: 'login users { map { email: claims.email } }' }),
  ].join('\n');
  rt = await startConnector(compileHdc(text), port, { log: createLogger({ level: 'info', destination: log.destination }), over: { moduleOptions: { smart: { rateLimit: { perUser: 3 } } } } });
  // Users added with the CLI, into the running connector's database.
  for (const [name, pw, claims] of [['frank', 'frank-password', '{"email":"frank@acme.org","groups":["clinicians"]}'], ['gina', 'gina-password', '{"email":"gina@acme.org","groups":["billing"]}']] as const) {
    const r = spawnSync(process.execPath, [join(root, 'bin/hdc.js'), 'users', 'add', name, '--claims', claims, '--password-stdin', '--data', join(rt.dir, 'data')], {
      input: `${pw}\n`, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8',
    });
    assert.is(r.status, 0, r.stderr);
  }
});

test.after(async () => {
  await rt?.stop();
  await stack?.close();
  await idp?.close();
  await ldap?.close();
  await forms?.close();
  if (pgReady) await pgQuery(`DROP TABLE ${pgTable}`).catch(() => undefined);
});

const toForms = (u: URL) => u.origin === forms.origin;

/** Launches `name` and walks to the connector's login form. */
async function toLoginForm(name: string, jar: CookieJar, patient = child.id): Promise<{ page: WalkResult; csrf: string }> {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  stack.auth.registerLaunch(id, { patient });
  const page = await walkRedirects(`${base}/smart/${name}/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${id}`, { jar, stopWhen: toForms });
  assert.is(page.status, 200, page.body.slice(0, 300));
  assert.is(new URL(page.url).pathname, `/smart/${name}/login`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(csrf);
  return { page, csrf: csrf! };
}

function submit(name: string, jar: CookieJar, form: Record<string, string>) {
  return walkRedirects(`${base}/smart/${name}/login`, { jar, form, stopWhen: toForms });
}

test('oidc: a clinician signs in at the IdP; claims mapped into user', async () => {
  idp.setInteraction('auto');
  const r = await walkRedirects(`${base}/smart/o/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${(stack.auth.registerLaunch('o-1', { patient: child.id }), 'o-1')}`, { stopWhen: toForms });
  assert.ok(r.stopped, r.body.slice(0, 400));
  assert.ok(r.hops.some((h) => h.startsWith(idp.authorizationEndpoint)));
  assert.is(new URL(r.url).pathname, '/peds');
});

test('oidc: a user outside the required group is refused; an IdP refusal too', async () => {
  stack.auth.registerLaunch('o-2', { patient: general.id });
  const bob = await startIdpUser('bob');
  assert.is(bob.status, 403);
  assert.match(bob.body, /not allowed to use this app/);
  idp.setInteraction('deny');
  try {
    stack.auth.registerLaunch('o-3', { patient: general.id });
    const r = await walkRedirects(`${base}/smart/o/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=o-3`, { stopWhen: toForms });
    assert.is(r.status, 403);
    assert.match(r.body, /identity provider did not succeed/);
    const id = /id="correlation-id">([0-9a-f]+)</.exec(r.body)![1]!;
    assert.ok(log.lines.some((l) => l.includes(id) && l.includes('access_denied')));
  } finally {
    idp.setInteraction('auto');
  }
});

async function startIdpUser(user: string): Promise<WalkResult> {
  // The IdP's form mode: sign in as `user` on its login page, approve on its consent page.
  idp.setInteraction('form');
  try {
    const jar = new CookieJar();
    const first = await walkRedirects(`${base}/smart/o/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=o-2`, { jar, stopWhen: toForms });
    const loginAction = /<form[^>]*action="([^"]+)"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const consent = await walkRedirects(new URL(loginAction, first.url).href, { jar, form: { username: user, password: user === 'bob' ? 'b' : 'a' }, stopWhen: toForms });
    if (consent.stopped || consent.status !== 200 || !/approve/.test(consent.body)) return consent;
    const approve = /<form[^>]*action="([^"]+)"/.exec(consent.body)![1]!.replace(/&amp;/g, '&');
    return walkRedirects(new URL(approve, consent.url).href, { jar, form: { decision: 'approve' }, stopWhen: toForms });
  } finally {
    idp.setInteraction('auto');
  }
}

const maybeLdap = ldapAvailable() ? test : test.skip;
maybeLdap('ldap: wrong password, DN injection and an empty password are refused; the right one signs in', async () => {
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('l', jar);
  const wrong = await submit('l', jar, { csrf, username: 'carol', password: 'nope' });
  assert.is(wrong.status, 401);
  assert.match(wrong.body, /Invalid user name or password/);
  const injected = await submit('l', jar, { csrf, username: 'carol,ou=people', password: 'carol-pw' });
  assert.is(injected.status, 401);
  const empty = await submit('l', jar, { csrf, username: 'carol', password: '' });
  assert.is(empty.status, 401);
  const ok = await submit('l', jar, { csrf, username: 'carol', password: 'carol-pw' });
  assert.ok(ok.stopped, ok.body.slice(0, 300));
  assert.is(new URL(ok.url).pathname, '/peds');
  assert.not.ok(log.lines.join('\n').includes('carol-pw'));
});

maybeLdap('ldap: a directory user outside the required group is refused', async () => {
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('l', jar);
  const r = await submit('l', jar, { csrf, username: 'dave', password: 'dave-pw' });
  assert.is(r.status, 403);
});

test('users: hdc users added the accounts; CSRF is required; the right password signs in', async () => {
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('u', jar, general.id);
  const noCsrf = await submit('u', jar, { username: 'frank', password: 'frank-password' });
  assert.is(noCsrf.status, 403);
  // The 403 for a missing token does not end the session: the real form still works.
  const wrong = await submit('u', jar, { csrf, username: 'frank', password: 'frank-passwort' });
  assert.is(wrong.status, 401);
  const ok = await submit('u', jar, { csrf, username: 'frank', password: 'frank-password' });
  assert.ok(ok.stopped, ok.body.slice(0, 300));
  const url = new URL(ok.url);
  assert.is(url.pathname, '/general');
  assert.is(url.searchParams.get('user'), 'frank@acme.org');
  // The launch is over and its cookie cleared: the form cannot be used twice.
  const again = await submit('u', jar, { csrf, username: 'frank', password: 'frank-password' });
  assert.is(again.status, 400);
});

test('users: failed attempts are throttled', async () => {
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('u', jar);
  for (let i = 0; i < 3; i++) assert.is((await submit('u', jar, { csrf, username: 'gina', password: `bad-${i}` })).status, 401);
  const blocked = await submit('u', jar, { csrf, username: 'gina', password: 'gina-password' });
  assert.is(blocked.status, 429);
});

test('postgres: the parameterised query checks the password', async () => {
  if (!pgReady) return skipBecause(`PostgreSQL at ${PG_URL} is not reachable`);
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('p', jar, general.id);
  const injected = await submit('p', jar, { csrf, username: "erin' or '1'='1", password: 'erin-password' });
  assert.is(injected.status, 401);
  const ok = await submit('p', jar, { csrf, username: 'erin', password: 'erin-password' });
  assert.ok(ok.stopped, ok.body.slice(0, 300));
  assert.is(new URL(ok.url).searchParams.get('user'), 'erin@acme.org');
});

test('offline_access: an access token that expired during the login is refreshed', async () => {
  const jar = new CookieJar();
  const { csrf } = await toLoginForm('r', jar, general.id);
  const refreshes = stack.auth.tokenRequestsByGrant.refresh_token ?? 0;
  await new Promise((r) => setTimeout(r, 2500));
  const ok = await submit('r', jar, { csrf, username: 'frank', password: 'frank-password' });
  assert.ok(ok.stopped, ok.body.slice(0, 300));
  assert.is(new URL(ok.url).pathname, '/general');
  assert.is(stack.auth.tokenRequestsByGrant.refresh_token, refreshes + 1);
});

test.run();
