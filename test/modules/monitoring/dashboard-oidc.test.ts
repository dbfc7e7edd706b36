// Signing in to the dashboard through an OpenID Connect provider (a real oidc-provider peer):
// authorization code with PKCE, the role from the id_token's groups; a user whose groups grant no
// role is refused; a callback without the sign-in's cookie is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { startIdp, type Idp, type IdpOptions } from '../../peers/idp.ts';
import { CookieJar, walkRedirects } from '../../peers/redirect-walker.ts';
import { monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let api: PartnerApi;
let idp: Idp;
/** The peer reads its automatic user from these options at each sign-in. */
let idpOptions: IdpOptions;
let m: Monitored;
let base: string;

test.before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idp = await startIdp(idpOptions = {
    clients: [{ clientId: 'hdc-dashboard', clientSecret: 'dashboard-secret', redirectUris: [`${base}/login/callback`] }],
    users: [
      { username: 'olga', password: 'x', claims: { email: 'olga@acme.org', groups: ['integration-team'] } },
      { username: 'carl', password: 'x', claims: { email: 'carl@acme.org', groups: ['cafeteria'] } },
    ],
    interaction: 'auto', autoUser: 'olga',
  });
  process.env.DASHBOARD_IDP_SECRET = 'dashboard-secret';
  api = await startPartnerApi();
  m = await startMonitored(monitoredPlan(api.url, `dashboard {
  listen "127.0.0.1:${port}"
  login oidc {
    issuer "${idp.issuer}"
    client_id "hdc-dashboard"
    client_secret env("DASHBOARD_IDP_SECRET")
    scope "openid email groups"
  }
  role viewer { group "integration-viewers" }
  role operator { group "integration-team" }
}
`));
});

test.after(async () => {
  await m?.stop();
  await api?.close();
  await idp?.close();
});

/** The sign-in page's form, posted; the walk through the IdP (signed in automatically) and back. */
async function signIn(jar: CookieJar) {
  const page = await walkRedirects(`${base}/`, { jar });
  assert.is(new URL(page.url).pathname, '/login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  return walkRedirects(`${base}/login`, { jar, form: { csrf } });
}

test('an operator by the id_token\'s groups', async () => {
  const jar = new CookieJar();
  const end = await signIn(jar);
  assert.is(end.url, `${base}/`);
  assert.is(end.status, 200);
  assert.match(end.body, /id="role">operator</);
  assert.match(end.body, /id="user">olga@acme.org</);
  assert.ok(end.hops.some((h) => h.startsWith(idp.issuer)), 'the walk went through the IdP');
  assert.ok((await m.module.audit.list({ action: 'sign-in' })).some((e) => e.username === 'olga@acme.org' && e.role === 'operator'));
});

test('a user whose groups grant no role is refused', async () => {
  idpOptions.autoUser = 'carl';
  try {
    const end = await signIn(new CookieJar());
    assert.is(end.status, 403);
    assert.match(end.body, /no dashboard role/);
    assert.ok((await m.module.audit.list({ action: 'sign-in-refused' })).some((e) => e.username === 'carl@acme.org'));
  } finally {
    idpOptions.autoUser = 'olga';
  }
});

test('a callback without the sign-in cookie is refused', async () => {
  const r = await walkRedirects(`${base}/login/callback?code=stolen&state=x`);
  assert.is(r.status, 400);
  assert.match(r.body, /started elsewhere/);
});

test.run();
