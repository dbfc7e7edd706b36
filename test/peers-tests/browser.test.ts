import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAuthServer, type AuthServer } from '../peers/auth-server.ts';
import { browserAvailable, launchBrowser, type TestBrowser } from '../peers/browser.ts';
import { startFhirServer, type FhirServer } from '../peers/fhir-server.ts';
import { listenLoopback, type Listening } from '../peers/listen.ts';
import { authorizeUrl, pkcePair, randomState, tokenRequest } from '../peers/oauth-test-client.ts';
import { selfSignedCert } from '../peers/self-signed.ts';
import { syntheaPatients } from '../peers/synthea.ts';

const available = browserAvailable();
if (!available) console.log('chromium is not installed (Debian package chromium): browser tests skipped');
const maybe = available ? test : test.skip;

let browser: TestBrowser;
let fhir: FhirServer;
let auth: AuthServer;
let app: Listening;
let redirectUri: string;
const callbacks: URL[] = [];
const fred = syntheaPatients().find((p) => p.file.includes('Fred_Beer'))!;

test.before(async () => {
  if (!available) return;
  // The app's callback runs on HTTPS with a self-signed certificate: the browser must accept it.
  app = await listenLoopback(await selfSignedCert());
  app.setHandler((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', app.origin);
    if (url.pathname === '/callback') callbacks.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>App</title><p id="done">Signed in</p>');
  });
  redirectUri = `${app.origin}/callback`;
  fhir = await startFhirServer({ seed: [fred.file] });
  auth = await startAuthServer({
    fhirBase: fhir.baseUrl,
    clients: [{ clientId: 'browser-app', clientSecret: 'browser-secret', redirectUris: [redirectUri] }],
    users: [{ username: 'dr.who', password: 'tardis-42', fhirUser: 'Practitioner/who-1' }],
  });
  fhir.attachAuth({ verifyToken: auth.verifyAccessToken, smartConfig: auth.smartConfiguration });
  browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await auth?.close();
  await fhir?.close();
  await app?.close();
});

maybe('chromium completes a SMART EHR launch through the login and consent forms', async () => {
  auth.registerLaunch('browser-launch', { patient: fred.id, encounter: 'enc-b', need_patient_banner: true });
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  const scope = 'launch openid fhirUser offline_access patient/Patient.rs';
  const page = await browser.newPage();
  await page.goto(
    authorizeUrl(auth.authorizationEndpoint, {
      clientId: 'browser-app',
      redirectUri,
      scope,
      state,
      challenge,
      aud: fhir.baseUrl,
      launch: 'browser-launch',
    }),
  );
  await page.fill('#username', 'dr.who');
  await page.fill('#password', 'wrong');
  await page.click('#login');
  assert.match((await page.textContent('[role=alert]')) ?? '', /Invalid username or password/);
  await page.fill('#username', 'dr.who');
  await page.fill('#password', 'tardis-42');
  await page.click('#login');
  assert.match((await page.textContent('#scopes')) ?? '', /patient\/Patient\.rs/);
  await page.click('#approve');
  await page.waitForSelector('#done');
  await page.close();

  const cb = callbacks.at(-1)!;
  assert.is(cb.searchParams.get('state'), state);
  const token = await tokenRequest(
    auth.tokenEndpoint,
    { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, code_verifier: verifier, redirect_uri: redirectUri },
    { clientId: 'browser-app', clientSecret: 'browser-secret' },
  );
  assert.is(token.status, 200, JSON.stringify(token.body));
  assert.is(token.body.patient, fred.id);
  assert.is(token.body.encounter, 'enc-b');
  assert.is(token.body.scope, scope);
  assert.ok(token.body.refresh_token);
  assert.is(decodeJwt(token.body.id_token).fhirUser, `${fhir.baseUrl}/Practitioner/who-1`);
  const res = await fetch(`${fhir.baseUrl}/Patient/${fred.id}`, { headers: { authorization: `Bearer ${token.body.access_token}` } });
  assert.is(res.status, 200);
});

maybe('chromium: denying consent sends access_denied to the app', async () => {
  const { challenge } = pkcePair();
  const page = await browser.newPage();
  // The session from the previous test is reused: only the consent page is shown.
  await page.goto(
    authorizeUrl(auth.authorizationEndpoint, {
      clientId: 'browser-app',
      redirectUri,
      scope: 'openid patient/Patient.rs',
      state: 'deny-state',
      challenge,
      aud: fhir.baseUrl,
      extra: { prompt: 'consent' },
    }),
  );
  await page.click('#deny');
  await page.waitForSelector('#done');
  await page.close();
  const cb = callbacks.at(-1)!;
  assert.is(cb.searchParams.get('error'), 'access_denied');
  assert.is(cb.searchParams.get('state'), 'deny-state');
});

test.run();
