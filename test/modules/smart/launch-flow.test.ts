// SMART launches over HTTP against the real peers (oidc-provider as the EHR's authorization
// server, the Medplum FHIR server with Synthea data), driven by a client that follows redirects
// and keeps cookies: EHR and standalone launch, rule choice, signed parameters, and the error
// paths (iss not allowed, state replay, state from another browser, denied consent, expired
// session, token endpoint and FHIR failures). Logs are checked for tokens and patient data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { verifySignedUrl } from '../../../modules/smart/signed-params.ts';
import { CookieJar, walkRedirects } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { compileHdc, freePort, launchesOf, memoryLog, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';
const { child, medicated, general } = fixturePatients();

let stack: SmartStack;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;
const log = memoryLog();
let clockOffset = 0;

test.before(async () => {
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await startSmartStack({
    fhir: { seed: [child.file, medicated.file, general.file] },
    auth: {
      clients: [{ clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/intake/callback`] }],
      users: [{ username: 'dr.who', password: 'tardis', fhirUser: 'Practitioner/who-1' }],
      interaction: 'auto',
      defaultPatient: general.id,
    },
  });
  // With the monitoring module's metrics: its count of launches by outcome is checked last.
  const plan = compileHdc(`${launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin })}\nmetrics { listen "127.0.0.1:0" }\n`);
  rt = await startConnector(plan, port, { log: createLogger({ level: 'debug', destination: log.destination }), over: { moduleOptions: { smart: { sessionTtlMs: 60_000, now: () => Date.now() + clockOffset } } } });
});

test.after(async () => {
  await rt?.stop();
  await stack?.close();
  await forms?.close();
});

const toForms = (u: URL) => u.origin === forms.origin;

async function ehrLaunch(patient: string, launchId: string, jar = new CookieJar()) {
  stack.auth.registerLaunch(launchId, { patient, need_patient_banner: true });
  const start = `${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${launchId}`;
  return walkRedirects(start, { jar, stopWhen: toForms });
}

test('EHR launch: a child goes to the pediatric form with signed parameters', async () => {
  const r = await ehrLaunch(child.id, 'L-child');
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  const url = new URL(r.url);
  assert.is(url.pathname, '/peds');
  assert.is(url.searchParams.get('given'), child.given);
  assert.is(url.searchParams.get('family'), child.family);
  assert.is(url.searchParams.get('birth_date'), '2018-12-14');
  assert.equal(verifySignedUrl(url, 'form-signing-key'), { ok: true });
});

test('EHR launch: a patient with medication requests goes to the medication form', async () => {
  const r = await ehrLaunch(medicated.id, 'L-meds');
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  const url = new URL(r.url);
  assert.is(url.pathname, '/meds');
  assert.is(url.searchParams.get('given'), medicated.given);
  assert.is(url.searchParams.get('meds'), '5');
  // fhirUser from the validated id_token, made absolute against the FHIR base.
  assert.is(url.searchParams.get('clinician'), `${stack.fhir.baseUrl}/Practitioner/who-1`);
  assert.is(url.searchParams.get('banner'), 'true');
});

test('standalone launch: the patient picked at the EHR goes to the general form; searches page', async () => {
  const r = await walkRedirects(`${base}/smart/intake/start`, { stopWhen: toForms });
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  const url = new URL(r.url);
  assert.is(url.pathname, '/general');
  assert.is(url.searchParams.get('given'), general.given);
  // _count 10, 3 pages at most: 30 of the patient's 103 observations.
  assert.is(url.searchParams.get('observations'), '30');
  const authorize = new URL(r.hops.find((h) => h.startsWith(stack.auth.authorizationEndpoint))!);
  assert.is(authorize.searchParams.get('launch'), null);
  assert.ok(authorize.searchParams.get('scope')!.split(' ').includes('launch/patient'));
  assert.ok(!authorize.searchParams.get('scope')!.split(' ').includes('launch'));
});

test('the authorize request: code, PKCE S256, aud, launch, state of 256 bits, redirect_uri', async () => {
  stack.auth.registerLaunch('L-params', { patient: child.id });
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-params`, {
    stopWhen: (u) => u.href.startsWith(stack.auth.authorizationEndpoint),
  });
  const u = new URL(r.url);
  assert.is(u.searchParams.get('response_type'), 'code');
  assert.is(u.searchParams.get('client_id'), 'intake-app');
  assert.is(u.searchParams.get('redirect_uri'), `${base}/smart/intake/callback`);
  assert.is(u.searchParams.get('aud'), stack.fhir.baseUrl);
  assert.is(u.searchParams.get('launch'), 'L-params');
  assert.is(u.searchParams.get('code_challenge_method'), 'S256');
  assert.match(u.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(Buffer.from(u.searchParams.get('state')!, 'base64url').length >= 16);
  assert.ok(u.searchParams.get('scope')!.split(' ').includes('launch'));
});

test('iss not on the allow-list: an error page with a correlation id, no redirect', async () => {
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent('https://evil.example.org/fhir')}&launch=x`);
  assert.is(r.status, 400);
  assert.is(r.hops.length, 1);
  assert.match(r.body, /not allowed to launch/);
  const id = /id="correlation-id">([0-9a-f]+)</.exec(r.body)?.[1];
  assert.ok(id);
  assert.ok(log.lines.some((l) => l.includes(id!) && l.includes('allow-list') && l.includes('launch.hdc:')));
});

test('state replay: the callback URL used a second time is refused', async () => {
  stack.auth.registerLaunch('L-replay', { patient: child.id });
  const jar = new CookieJar();
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-replay`, {
    jar,
    stopWhen: (u) => u.pathname.endsWith('/smart/intake/callback'),
  });
  assert.ok(r.stopped);
  const first = await walkRedirects(r.url, { jar, stopWhen: toForms });
  assert.ok(first.stopped, first.body);
  const again = await walkRedirects(r.url, { jar });
  assert.is(again.status, 400);
  assert.match(again.body, /Launch failed/);
});

test('state from another browser: the callback without the launching browser\'s cookie is refused', async () => {
  stack.auth.registerLaunch('L-other', { patient: child.id });
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-other`, {
    jar: new CookieJar(),
    stopWhen: (u) => u.pathname.endsWith('/smart/intake/callback'),
  });
  // Another browser that has a launch session of its own.
  stack.auth.registerLaunch('L-mine', { patient: child.id });
  const mine = new CookieJar();
  await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-mine`, {
    jar: mine,
    stopWhen: (u) => u.pathname.endsWith('/smart/intake/callback'),
  });
  const stolen = await walkRedirects(r.url, { jar: mine });
  assert.is(stolen.status, 400);
  const none = await walkRedirects(r.url, { jar: new CookieJar() });
  assert.is(none.status, 400);
  assert.ok(!forms.hits.some((h) => h.searchParams.get('given') === 'stolen'));
});

test('denied consent: access_denied ends on the error page', async () => {
  stack.auth.setInteraction('deny');
  try {
    stack.auth.registerLaunch('L-deny', { patient: child.id });
    const before = forms.hits.length;
    const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-deny`, { stopWhen: toForms });
    assert.is(r.stopped, false);
    assert.is(r.status, 403);
    assert.match(r.body, /Access was not granted/);
    assert.is(forms.hits.length, before);
  } finally {
    stack.auth.setInteraction('auto');
  }
});

test('FHIR failure during the fetches: error page; the log names the step\'s line', async () => {
  stack.fhir.fault({ status: 500, times: 4, pathPrefix: '/fhir/MedicationRequest' });
  const r = await ehrLaunch(medicated.id, 'L-fhirfail');
  assert.is(r.status, 502);
  assert.match(r.body, /could not be read/);
  const id = /id="correlation-id">([0-9a-f]+)</.exec(r.body)![1]!;
  const line = log.lines.find((l) => l.includes(id))!;
  assert.match(line, /launch\.hdc:14: GET launch intake MedicationRequest/, line);
  stack.fhir.clearFaults?.();
});

test('expired session: a callback after the session lifetime is refused', async () => {
  stack.auth.registerLaunch('L-slow', { patient: child.id });
  const jar = new CookieJar();
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-slow`, {
    jar,
    stopWhen: (u) => u.pathname.endsWith('/smart/intake/callback'),
  });
  clockOffset = 61_000;
  try {
    const late = await walkRedirects(r.url, { jar, stopWhen: toForms });
    assert.is(late.status, 410);
    assert.match(late.body, /expired/);
  } finally {
    clockOffset = 0;
  }
});

test('sessions are stored server side, hashed; the cookie is HttpOnly and SameSite=Lax', async () => {
  stack.auth.registerLaunch('L-cookie', { patient: child.id });
  const res = await fetch(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=L-cookie`, { redirect: 'manual' });
  const cookie = res.headers.getSetCookie()[0]!;
  // One cookie per launch, named by the launch key its state starts with.
  assert.match(cookie, /^hdc-launch-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{43};/);
  const key = /^hdc-launch-([^=]+)=/.exec(cookie)![1]!;
  assert.ok(new URL(res.headers.get('location')!).searchParams.get('state')!.startsWith(key));
  assert.match(cookie, /httponly/i);
  assert.match(cookie, /samesite=lax/i);
  const id = /^hdc-launch-[^=]+=([^;]+)/.exec(cookie)![1]!;
  const rows = rt.db.prepare('SELECT id_hash FROM smart_launch_sessions').all() as Array<{ id_hash: string }>;
  assert.ok(rows.length > 0);
  assert.not.ok(rows.some((r) => r.id_hash === id));
  assert.ok(await launchesOf(rt).sessions.get(id));
  // Nothing of the launch is in the URL but the state, the challenge and public parameters.
  assert.not.match(res.headers.get('location')!, new RegExp(id));
});

test('the monitoring module counted every launch by outcome', async () => {
  const metricsUrl = (rt.modules.get('monitoring') as { metricsUrl?: string } | undefined)?.metricsUrl;
  assert.ok(metricsUrl, 'the monitoring module runs beside the SMART module');
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const count = (outcome: string) => Number(new RegExp(`^hdc_smart_launches_total\\{launch="intake",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const { completed, failed } = launchesOf(rt).timing;
  assert.ok(completed >= 3, `completed launches: ${completed}`);
  assert.is(count('completed'), completed);
  assert.is(count('refused') + count('failed'), failed);
  assert.ok(count('refused') > 0, 'refusals (iss not allowed, state replay) are counted as refused');
});

test('the log holds no tokens, codes or patient data', () => {
  const all = log.lines.join('\n');
  for (const p of [child, medicated, general]) {
    assert.not.ok(all.includes(p.family), 'family name in the log');
    assert.not.ok(all.includes(p.id), 'patient id in the log');
  }
  assert.not.match(all, /eyJ[A-Za-z0-9_-]{10,}\./, 'a JWT in the log');
  assert.not.match(all, /intake-secret|form-signing-key/);
});

test.run();
