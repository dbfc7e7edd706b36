import * as client from 'openid-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdp, type Idp } from '../peers/idp.ts';
import { CookieJar, formAction, walkRedirects } from '../peers/redirect-walker.ts';

const REDIRECT = 'http://127.0.0.1:9/smart/coverage/login-callback';
let idp: Idp;

test.before(async () => {
  idp = await startIdp({
    clients: [
      { clientId: 'connector', clientSecret: 'connector-secret', redirectUris: [REDIRECT] },
      { clientId: 'spa', redirectUris: [REDIRECT] },
    ],
    users: [
      {
        username: 'nurse.jones',
        password: 'pa55word',
        claims: { email: 'jones@hospital.example', email_verified: true, groups: ['nurses', 'ward-7'], name: 'Pat Jones' },
      },
      { username: 'clerk', password: 'clerkpw', claims: { email: 'clerk@hospital.example', groups: ['front-desk'] } },
    ],
  });
});
test.after(() => idp.close());

async function discover(clientId: string, secret?: string) {
  return client.discovery(
    new URL(idp.issuer),
    clientId,
    secret ? { client_secret: secret } : undefined,
    secret ? client.ClientSecretBasic(secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
}

test('discovery document names the endpoints, S256 PKCE and the claims', async () => {
  const doc = await (await fetch(idp.discoveryUrl)).json();
  assert.is(doc.issuer, idp.issuer);
  assert.is(doc.authorization_endpoint, idp.authorizationEndpoint);
  assert.is(doc.token_endpoint, idp.tokenEndpoint);
  assert.equal(doc.code_challenge_methods_supported, ['S256']);
  assert.ok(doc.claims_supported.includes('groups'));
});

test('login form → code → id_token validated by openid-client via discovery (email, groups)', async () => {
  const config = await discover('connector', 'connector-secret');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email groups profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const jar = new CookieJar();
  const loginPage = await walkRedirects(url.href, { jar });
  assert.is(loginPage.status, 200);
  const consent = await walkRedirects(formAction(loginPage.body, loginPage.url, '/login'), {
    jar,
    form: { username: 'nurse.jones', password: 'pa55word' },
  });
  assert.match(consent.body, /groups/);
  const done = await walkRedirects(formAction(consent.body, consent.url, '/confirm'), {
    jar,
    form: { decision: 'approve' },
    stopWhen: (u) => u.href.startsWith(REDIRECT),
  });
  assert.ok(done.stopped);
  const before = idp.logins;
  const tokens = await client.authorizationCodeGrant(config, new URL(done.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims()!;
  assert.is(claims.iss, idp.issuer);
  assert.is(claims.aud, 'connector');
  assert.is(claims.sub, 'nurse.jones');
  assert.is(claims.email, 'jones@hospital.example');
  assert.equal(claims.groups, ['nurses', 'ward-7']);
  assert.is(claims.name, 'Pat Jones');
  assert.ok(idp.logins >= before);
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.is(info.email, 'jones@hospital.example');
});

test('a public client with PKCE in auto mode; a wrong state is caught by the client', async () => {
  idp.setInteraction('auto');
  try {
    const config = await discover('spa');
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'expected-state',
    });
    const done = await walkRedirects(url.href, { stopWhen: (u) => u.href.startsWith(REDIRECT) });
    assert.ok(done.stopped);
    const wrongState = await client
      .authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 'other' })
      .then(() => "accepted", (e: Error) => `${e.message}: ${(e.cause as Error | undefined)?.message}`);
    assert.match(wrongState, /state/);
    const ok = await client.authorizationCodeGrant(config, new URL(done.url), {
      pkceCodeVerifier: verifier,
      expectedState: 'expected-state',
    });
    assert.is(ok.claims()!.email, 'jones@hospital.example');
  } finally {
    idp.setInteraction('form');
  }
});

test('PKCE is required; deny gives access_denied; a bad password keeps the login form', async () => {
  const noPkce = new URL(idp.authorizationEndpoint);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'spa', redirect_uri: REDIRECT, scope: 'openid', state: 'x' })) {
    noPkce.searchParams.set(k, v);
  }
  const r1 = await walkRedirects(noPkce.href, { stopWhen: (u) => u.href.startsWith(REDIRECT) });
  assert.is(new URL(r1.url).searchParams.get('error'), 'invalid_request');

  const config = await discover('spa');
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: 's',
  });
  const jar = new CookieJar();
  const page = await walkRedirects(url.href, { jar });
  const bad = await walkRedirects(formAction(page.body, page.url, '/login'), { jar, form: { username: 'clerk', password: 'wrong' } });
  assert.match(bad.body, /Invalid username or password/);
  const cancelled = await walkRedirects(formAction(page.body, page.url, '/abort'), {
    jar,
    form: {},
    stopWhen: (u) => u.href.startsWith(REDIRECT),
  });
  assert.is(new URL(cancelled.url).searchParams.get('error'), 'access_denied');
});

test.run();
