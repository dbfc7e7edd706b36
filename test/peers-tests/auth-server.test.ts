import { decodeJwt, decodeProtectedHeader } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAuthServer, type AuthServer } from '../peers/auth-server.ts';
import { smartClientAssertion, testKeyPair, type TestKeyPair } from '../peers/client-keys.ts';
import { startFhirServer, type FhirServer } from '../peers/fhir-server.ts';
import { authorizeUrl, JWT_BEARER_ASSERTION, pkcePair, randomState, tokenRequest } from '../peers/oauth-test-client.ts';
import { CookieJar, formAction, walkRedirects } from '../peers/redirect-walker.ts';
import { smartConfigurationFor } from '../peers/smart-configuration.ts';
import { syntheaBundleFiles, syntheaPatients } from '../peers/synthea.ts';

const REDIRECT = 'http://127.0.0.1:9/app/callback';
const fred = syntheaPatients().find((p) => p.file.includes('Fred_Beer'))!;
const practitionerFile = syntheaBundleFiles().find((f) => f.includes('practitionerInformation'))!;

let fhir: FhirServer;
let auth: AuthServer;
let rs384: TestKeyPair;
let es384: TestKeyPair;
let stranger: TestKeyPair;

test.before(async () => {
  [rs384, es384, stranger] = await Promise.all([
    testKeyPair('RS384', 'backend'),
    testKeyPair('ES384', 'backend'),
    testKeyPair('RS384', 'stranger'),
  ]);
  fhir = await startFhirServer({ seed: [practitionerFile, fred.file] });
  auth = await startAuthServer({
    fhirBase: fhir.baseUrl,
    accessTokenTtl: 60,
    clients: [
      { clientId: 'basic-client', clientSecret: 'basic-secret' },
      { clientId: 'post-client', clientSecret: 'post-secret', auth: 'client_secret_post' },
      { clientId: 'rs384-client', jwks: { keys: [rs384.publicJwk] } },
      { clientId: 'es384-client', jwks: { keys: [es384.publicJwk] }, assertionAlg: 'ES384' },
      { clientId: 'limited-client', clientSecret: 'limited-secret', allowedScopes: ['system/Patient.rs'] },
      { clientId: 'smart-app', clientSecret: 'app-secret', redirectUris: [REDIRECT] },
      { clientId: 'public-app', redirectUris: [REDIRECT] },
    ],
    users: [{ username: 'dr.smith', password: 'correct horse', fhirUser: 'Practitioner/smith-1', claims: { name: 'Dr Smith' } }],
    interaction: 'auto',
    patients: [{ id: fred.id, name: `${fred.given} ${fred.family}` }],
  });
  fhir.attachAuth({ verifyToken: auth.verifyAccessToken, smartConfig: auth.smartConfiguration });
});
test.after(async () => {
  await auth.close();
  await fhir.close();
});

const backendForm = async (key: TestKeyPair, clientId: string, scope: string, aud?: string) => ({
  grant_type: 'client_credentials',
  scope,
  client_assertion_type: JWT_BEARER_ASSERTION,
  client_assertion: await smartClientAssertion(key, clientId, auth.tokenEndpoint, aud ? { aud } : {}),
});

test('client_credentials with client_secret_basic and client_secret_post', async () => {
  const basic = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'system/Patient.rs' },
    { clientId: 'basic-client', clientSecret: 'basic-secret' },
  );
  assert.is(basic.status, 200);
  assert.is(basic.body.token_type, 'Bearer');
  assert.is(basic.body.scope, 'system/Patient.rs');
  assert.is(basic.body.expires_in, 60);
  assert.is(basic.body.refresh_token, undefined);
  const claims = decodeJwt(basic.body.access_token);
  assert.is(claims.aud, fhir.baseUrl);
  assert.is(claims.client_id, 'basic-client');

  const post = await tokenRequest(auth.tokenEndpoint, {
    grant_type: 'client_credentials',
    scope: 'system/Encounter.read',
    client_id: 'post-client',
    client_secret: 'post-secret',
  });
  assert.is(post.status, 200);
  assert.is(post.body.scope, 'system/Encounter.read');

  const wrong = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'system/Patient.rs' },
    { clientId: 'basic-client', clientSecret: 'not-the-secret' },
  );
  assert.is(wrong.status, 401);
  assert.is(wrong.body.error, 'invalid_client');
});

test('private_key_jwt with RS384 and ES384 (SMART Backend Services)', async () => {
  for (const [key, clientId] of [
    [rs384, 'rs384-client'],
    [es384, 'es384-client'],
  ] as const) {
    const res = await tokenRequest(auth.tokenEndpoint, await backendForm(key, clientId, 'system/Patient.rs system/Encounter.rs'));
    assert.is(res.status, 200, `${clientId}: ${JSON.stringify(res.body)}`);
    assert.is(res.body.scope, 'system/Patient.rs system/Encounter.rs');
    const verified = await auth.verifyAccessToken(res.body.access_token);
    assert.is(verified?.clientId, clientId);
  }
});

test('private_key_jwt is refused with a wrong key, a wrong aud, a replayed jti, a pinned alg', async () => {
  const wrongKey = await tokenRequest(auth.tokenEndpoint, {
    ...(await backendForm(stranger, 'rs384-client', 'system/Patient.rs')),
  });
  assert.is(wrongKey.status, 401);
  assert.is(wrongKey.body.error, 'invalid_client');

  const wrongAud = await tokenRequest(auth.tokenEndpoint, await backendForm(rs384, 'rs384-client', 'system/Patient.rs', auth.issuer));
  assert.is(wrongAud.status, 401);

  const form = await backendForm(rs384, 'rs384-client', 'system/Patient.rs');
  assert.is((await tokenRequest(auth.tokenEndpoint, form)).status, 200);
  assert.is((await tokenRequest(auth.tokenEndpoint, form)).status, 401, 'the same assertion cannot be used twice');

  const tooLong = await smartClientAssertion(rs384, 'rs384-client', auth.tokenEndpoint, { expiresIn: 3600 });
  const long = await tokenRequest(auth.tokenEndpoint, { ...form, client_assertion: tooLong });
  assert.is(long.status, 401);

  // es384-client pins ES384: an RS384 assertion from a key it does not own fails.
  const pinned = await tokenRequest(auth.tokenEndpoint, await backendForm(rs384, 'es384-client', 'system/Patient.rs'));
  assert.is(pinned.status, 401);
});

test('scopes are exact strings, limited by the client allow-list', async () => {
  const res = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'system/Patient.rs system/Claim.rs' },
    { clientId: 'limited-client', clientSecret: 'limited-secret' },
  );
  assert.is(res.status, 200);
  assert.is(res.body.scope, 'system/Patient.rs');
  const v2q = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'system/Observation.rs?category=laboratory system/*.read' },
    { clientId: 'basic-client', clientSecret: 'basic-secret' },
  );
  assert.is(v2q.body.scope, 'system/Observation.rs?category=laboratory system/*.read');
});

test('tokens work at the FHIR server, which enforces scopes; requests are counted', async () => {
  const before = auth.tokenRequests;
  const res = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'system/Patient.rs' },
    { clientId: 'basic-client', clientSecret: 'basic-secret' },
  );
  assert.is(auth.tokenRequests, before + 1);
  assert.ok(auth.tokenRequestsByGrant.client_credentials >= 1);
  const h = { authorization: `Bearer ${res.body.access_token}` };
  assert.is((await fetch(`${fhir.baseUrl}/Patient/${fred.id}`, { headers: h })).status, 200);
  assert.is((await fetch(`${fhir.baseUrl}/Encounter?patient=Patient/${fred.id}`, { headers: h })).status, 403);
  assert.is((await fetch(`${fhir.baseUrl}/Patient/${fred.id}`)).status, 401);
  const smart = await (await fetch(`${fhir.baseUrl}/.well-known/smart-configuration`)).json();
  assert.is(smart.token_endpoint, auth.tokenEndpoint);
  assert.equal(smart.code_challenge_methods_supported, ['S256']);
  assert.ok(smart.capabilities.includes('launch-ehr'));
  assert.not.ok('issuer' in smartConfigurationFor(auth, { omitIssuer: true }));
});

test('short-lived tokens expire and are then refused by the FHIR server', async () => {
  const shortAuth = await startAuthServer({
    fhirBase: fhir.baseUrl,
    accessTokenTtl: 1,
    clients: [{ clientId: 'c', clientSecret: 's' }],
  });
  try {
    const res = await tokenRequest(auth.tokenEndpoint.replace(auth.issuer, shortAuth.issuer), { grant_type: 'client_credentials', scope: 'system/Patient.rs' }, { clientId: 'c', clientSecret: 's' });
    assert.is(res.body.expires_in, 1);
    assert.ok(await shortAuth.verifyAccessToken(res.body.access_token));
    await new Promise((r) => setTimeout(r, 2100));
    assert.is(await shortAuth.verifyAccessToken(res.body.access_token), null);
    // The main auth server never issued it: a token of another issuer is refused too.
    assert.is(await auth.verifyAccessToken(res.body.access_token), null);
  } finally {
    await shortAuth.close();
  }
});

async function launch(scope: string, extra: { launch?: string; aud?: string; clientId?: string; jar?: CookieJar } = {}) {
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  const url = authorizeUrl(auth.authorizationEndpoint, {
    clientId: extra.clientId ?? 'smart-app',
    redirectUri: REDIRECT,
    scope,
    state,
    challenge,
    aud: extra.aud ?? fhir.baseUrl,
    launch: extra.launch,
  });
  const walk = await walkRedirects(url, { jar: extra.jar, stopWhen: (u) => u.href.startsWith(REDIRECT) });
  return { walk, verifier, state, callback: walk.stopped ? new URL(walk.url) : undefined };
}

const exchange = (code: string, verifier: string, clientId = 'smart-app') =>
  tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId },
    clientId === 'smart-app' ? { clientId, clientSecret: 'app-secret' } : undefined,
  );

test('SMART EHR launch over plain HTTP: PKCE, launch context, id_token with fhirUser, refresh', async () => {
  const encounter = 'Encounter/enc-1';
  auth.registerLaunch('launch-42', {
    patient: fred.id,
    encounter: 'enc-1',
    fhirContext: [{ reference: encounter }],
    need_patient_banner: false,
    smart_style_url: 'https://ehr.example.org/style.json',
    intent: 'reconcile-medications',
    tenant: 'acme',
  });
  const scope = 'launch openid fhirUser offline_access patient/Patient.rs patient/Encounter.rs user/Practitioner.read';
  const { callback, verifier, state } = await launch(scope, { launch: 'launch-42' });
  assert.ok(callback, 'redirected back to the app');
  assert.is(callback!.searchParams.get('state'), state);
  assert.is(callback!.searchParams.get('iss'), auth.issuer);
  const code = callback!.searchParams.get('code')!;

  const token = await exchange(code, verifier);
  assert.is(token.status, 200, JSON.stringify(token.body));
  assert.is(token.body.scope, scope);
  assert.is(token.body.patient, fred.id);
  assert.is(token.body.encounter, 'enc-1');
  assert.equal(token.body.fhirContext, [{ reference: encounter }]);
  assert.is(token.body.need_patient_banner, false);
  assert.is(token.body.smart_style_url, 'https://ehr.example.org/style.json');
  assert.is(token.body.intent, 'reconcile-medications');
  assert.is(token.body.tenant, 'acme');
  assert.ok(token.body.refresh_token);
  const idToken = decodeJwt(token.body.id_token);
  assert.is(idToken.fhirUser, `${fhir.baseUrl}/Practitioner/smith-1`);
  assert.is(idToken.aud, 'smart-app');
  assert.is(decodeProtectedHeader(token.body.id_token).alg, 'RS256');
  const at = decodeJwt(token.body.access_token);
  assert.is(at.aud, fhir.baseUrl);
  assert.is(at.patient, fred.id);

  const h = { authorization: `Bearer ${token.body.access_token}` };
  assert.is((await fetch(`${fhir.baseUrl}/Patient/${fred.id}`, { headers: h })).status, 200);
  assert.is((await fetch(`${fhir.baseUrl}/Observation?patient=Patient/${fred.id}`, { headers: h })).status, 403);

  const refreshed = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: token.body.refresh_token },
    { clientId: 'smart-app', clientSecret: 'app-secret' },
  );
  assert.is(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.ok(refreshed.body.access_token);
  assert.is(refreshed.body.patient, fred.id);
  assert.ok(await auth.verifyAccessToken(refreshed.body.access_token));

  // The code is single use: replaying it fails and revokes what it produced (RFC 6749 4.1.2).
  assert.is((await exchange(code, verifier)).status, 400);
  const afterReplay = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: token.body.refresh_token },
    { clientId: 'smart-app', clientSecret: 'app-secret' },
  );
  assert.is(afterReplay.status, 400);
});

test('PKCE is required, and a wrong verifier is refused', async () => {
  const url = authorizeUrl(auth.authorizationEndpoint, {
    clientId: 'smart-app',
    redirectUri: REDIRECT,
    scope: 'openid patient/Patient.rs',
    state: 's1',
    aud: fhir.baseUrl,
  });
  const noPkce = await walkRedirects(url, { stopWhen: (u) => u.href.startsWith(REDIRECT) });
  const cb = new URL(noPkce.url);
  assert.is(cb.searchParams.get('error'), 'invalid_request');
  assert.match(cb.searchParams.get('error_description')!, /PKCE/i);

  const { callback } = await launch('openid patient/Patient.rs');
  const bad = await exchange(callback!.searchParams.get('code')!, pkcePair().verifier);
  assert.is(bad.status, 400);
  assert.is(bad.body.error, 'invalid_grant');
});

test('an unknown aud, an unknown launch and a denied consent end in errors', async () => {
  const wrongAud = await launch('openid patient/Patient.rs', { aud: 'http://127.0.0.1:9/other-fhir' });
  assert.is(wrongAud.callback!.searchParams.get('error'), 'invalid_target');

  const unknownLaunch = await launch('launch openid patient/Patient.rs', { launch: 'never-registered' });
  assert.is(unknownLaunch.callback!.searchParams.get('error'), 'invalid_request');

  auth.setInteraction('deny');
  try {
    const denied = await launch('launch/patient openid patient/Patient.rs');
    assert.is(denied.callback!.searchParams.get('error'), 'access_denied');
    assert.ok(denied.callback!.searchParams.get('state'));
  } finally {
    auth.setInteraction('auto');
  }
});

test('standalone launch: public client, patient from the picker default, no refresh without offline_access', async () => {
  const { callback, verifier } = await launch('launch/patient openid fhirUser patient/*.rs', { clientId: 'public-app' });
  const token = await exchange(callback!.searchParams.get('code')!, verifier, 'public-app');
  assert.is(token.status, 200, JSON.stringify(token.body));
  assert.is(token.body.patient, fred.id);
  assert.is(token.body.need_patient_banner, true);
  assert.is(token.body.refresh_token, undefined);
  assert.is(token.body.scope, 'launch/patient openid fhirUser patient/*.rs');
});

test('form mode over plain HTTP: wrong password, login, patient picker, consent', async () => {
  auth.setInteraction('form');
  try {
    const jar = new CookieJar();
    const { walk, verifier } = await launch('launch/patient openid fhirUser patient/Patient.rs', { jar });
    assert.not.ok(walk.stopped);
    assert.is(walk.status, 200);
    assert.match(walk.body, /name="password"/);
    const loginUrl = formAction(walk.body, walk.url, '/login');

    const wrong = await walkRedirects(loginUrl, { jar, form: { username: 'dr.smith', password: 'nope' } });
    assert.match(wrong.body, /Invalid username or password/);

    const consent = await walkRedirects(loginUrl, {
      jar,
      form: { username: 'dr.smith', password: 'correct horse' },
      stopWhen: (u) => u.href.startsWith(REDIRECT),
    });
    assert.not.ok(consent.stopped);
    assert.match(consent.body, /patient\/Patient\.rs/);
    assert.match(consent.body, new RegExp(`<option value="${fred.id}"`));
    const done = await walkRedirects(formAction(consent.body, consent.url, '/confirm'), {
      jar,
      form: { decision: 'approve', patient: fred.id },
      stopWhen: (u) => u.href.startsWith(REDIRECT),
    });
    assert.ok(done.stopped);
    const token = await exchange(new URL(done.url).searchParams.get('code')!, verifier);
    assert.is(token.body.patient, fred.id);
    assert.is(decodeJwt(token.body.id_token).sub, 'dr.smith');
  } finally {
    auth.setInteraction('auto');
  }
});

test.run();
