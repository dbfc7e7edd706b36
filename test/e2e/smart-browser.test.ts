// SMART launches in a real browser (Debian chromium via playwright-core), end to end: the
// connector on HTTPS (Secure __Host- session cookie), the EHR's authorization server with its
// login and consent pages, the hospital's identity provider with its own login page, the FHIR
// server seeded with Synthea, and the forms the rules choose. Two EHR launches whose patients'
// data select different forms, a standalone launch with the patient picked at the EHR, a denied
// consent, and a callback replayed in a browser without the session.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { verifySignedUrl } from '../../modules/smart/signed-params.ts';
import { browserAvailable, launchBrowser, type TestBrowser } from '../peers/browser.ts';
import { startIdp, type Idp } from '../peers/idp.ts';
import { startSmartStack, type SmartStack } from '../peers/smart-stack.ts';
import { fixturePatients, launchHdc } from '../modules/smart/launch-fixture.ts';
import { compileHdc, freePort, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from '../modules/smart/smart-harness.ts';

const available = browserAvailable();
if (!available) console.log('chromium is not installed (Debian package chromium): browser tests skipped');
const maybe = available ? test : test.skip;

process.env.INTAKE_SECRET = 'browser-secret';
process.env.FORM_KEY = 'browser-form-key';
const { child, medicated, general } = fixturePatients();

let browser: TestBrowser;
let stack: SmartStack;
let idp: Idp;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;

test.before(async () => {
  if (!available) return;
  forms = await startFormPages();
  const port = await freePort();
  base = `https://127.0.0.1:${port}`;
  stack = await startSmartStack({
    fhir: { seed: [child.file, medicated.file, general.file] },
    auth: {
      clients: [{ clientId: 'intake-app', clientSecret: 'browser-secret', redirectUris: [`${base}/smart/intake/callback`] }],
      users: [{ username: 'dr.who', password: 'tardis-42', fhirUser: 'Practitioner/who-1' }],
      patients: [{ id: child.id, name: child.given }, { id: general.id, name: general.given }],
    },
  });
  idp = await startIdp({
    clients: [{ clientId: 'connector', clientSecret: 'idp-secret', redirectUris: [`${base}/smart/intake/login/callback`] }],
    users: [{ username: 'alice', password: 'wonderland', claims: { email: 'alice@acme.org', groups: ['clinicians'] } }],
  });
  const login = `login oidc {\n    issuer "${idp.issuer}"\n    client_id "connector"\n    client_secret env("IDP_SECRET", "idp-secret")\n    scope "openid email groups"\n    require "clinicians" in claims.groups\n    map { email: claims.email }\n  }`;
  const plan = compileHdc(launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin, login }));
  rt = await startConnector(plan, port, { https: true });
  browser = await launchBrowser();
});

test.after(async () => {
  await browser?.close();
  await rt?.stop();
  await idp?.close();
  await stack?.close();
  await forms?.close();
});

/** Signs in at the EHR if it asks, approves (picking a patient when offered), signs in at the IdP if it asks. */
async function throughForms(page: Page, pick?: string): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await page.waitForLoadState();
    const url = new URL(page.url());
    if (url.origin === forms.origin || url.origin === base) return;
    const fromIdp = url.origin === idp.issuer;
    if (await page.locator('#password').count()) {
      await page.fill('#username', fromIdp ? 'alice' : 'dr.who');
      await page.fill('#password', fromIdp ? 'wonderland' : 'tardis-42');
      await Promise.all([page.waitForNavigation(), page.click('#login')]);
    } else if (await page.locator('#approve').count()) {
      if (pick && (await page.locator('select#patient').count())) await page.selectOption('select#patient', pick);
      await Promise.all([page.waitForNavigation(), page.click('#approve')]);
    } else return;
  }
}

maybe('EHR launch in the browser: two patients, two forms, signed parameters', async () => {
  const page = await browser.newPage();
  stack.auth.registerLaunch('B-child', { patient: child.id, need_patient_banner: true });
  await page.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-child`);
  await throughForms(page);
  await page.waitForSelector('#form');
  const peds = new URL(page.url());
  assert.is(peds.origin + peds.pathname, `${forms.origin}/peds`);
  assert.is(peds.searchParams.get('given'), child.given);
  assert.is(peds.searchParams.get('birth_date'), '2018-12-14');
  assert.equal(verifySignedUrl(peds, 'browser-form-key'), { ok: true });
  // Tampered parameters, or the same query on another page, fail verification.
  const tampered = new URL(peds);
  tampered.searchParams.set('given', 'Mallory');
  assert.equal(verifySignedUrl(tampered, 'browser-form-key'), { ok: false, reason: 'bad-signature' });
  const moved = new URL(peds);
  moved.pathname = '/general';
  assert.equal(verifySignedUrl(moved, 'browser-form-key'), { ok: false, reason: 'bad-signature' });
  const late = verifySignedUrl(peds, 'browser-form-key', Date.now() + 6 * 60_000);
  assert.equal(late, { ok: false, reason: 'expired' });

  // The session cookie was Secure, HttpOnly, SameSite=Lax, and is gone once the launch completed.
  stack.auth.registerLaunch('B-meds', { patient: medicated.id });
  await page.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-meds`, { waitUntil: 'commit' });
  const cookie = (await browser.context.cookies(base)).find((c) => c.name.startsWith('__Host-hdc-launch-'));
  assert.ok(cookie);
  assert.ok(cookie!.secure && cookie!.httpOnly);
  assert.is(cookie!.sameSite, 'Lax');
  await throughForms(page);
  await page.waitForSelector('#form');
  const meds = new URL(page.url());
  assert.is(meds.pathname, '/meds');
  assert.is(meds.searchParams.get('given'), medicated.given);
  assert.is(meds.searchParams.get('meds'), '5');
  assert.is(meds.searchParams.get('clinician'), `${stack.fhir.baseUrl}/Practitioner/who-1`);
  assert.not.ok((await browser.context.cookies(base)).some((c) => c.name.startsWith('__Host-hdc-launch-')));
  await page.close();
});

maybe('standalone launch in the browser: the patient picked at the EHR decides the form', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/smart/intake/start`);
  await throughForms(page, general.id);
  await page.waitForSelector('#form');
  const url = new URL(page.url());
  assert.is(url.pathname, '/general');
  assert.is(url.searchParams.get('given'), general.given);
  assert.is(url.searchParams.get('user'), 'alice@acme.org');
  await page.close();
});

maybe('denied consent and a callback replayed without the session end on the error page', async () => {
  const page = await browser.newPage();
  stack.auth.registerLaunch('B-deny', { patient: child.id });
  // The EHR user already consented in this browser session, so the EHR refuses on its own here.
  stack.auth.setInteraction('deny');
  try {
    await page.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-deny`);
    // The user signs in at the IdP first (when it asks), then the EHR refuses.
    await throughForms(page);
    await page.waitForSelector('#error');
  } finally {
    stack.auth.setInteraction('form');
  }
  assert.match((await page.textContent('#error')) ?? '', /Access was not granted/);
  assert.match((await page.textContent('#correlation-id')) ?? '', /^[0-9a-f]{16}$/);

  // A callback seen in one browser, replayed where the launch's cookie is absent.
  stack.auth.registerLaunch('B-steal', { patient: child.id });
  let callback = '';
  page.on('request', (r) => {
    if (r.url().startsWith(`${base}/smart/intake/callback?`)) callback = r.url();
  });
  await page.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-steal`);
  await throughForms(page);
  await page.waitForSelector('#form');
  assert.ok(callback, 'the callback was seen');
  await browser.context.clearCookies();
  const res = await page.goto(callback);
  assert.is(res?.status(), 400);
  assert.ok(await page.locator('#correlation-id').count());
  await page.close();
});

maybe('two tabs, two patients, one browser: the second launch does not break the first', async () => {
  // No sessions at the IdP or the EHR yet: tab 1 stops on the IdP's sign-in page.
  await browser.context.clearCookies();
  const tab1 = await browser.newPage();
  const tab2 = await browser.newPage();
  stack.auth.registerLaunch('B-tab1', { patient: child.id });
  stack.auth.registerLaunch('B-tab2', { patient: medicated.id });
  await tab1.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-tab1`);
  await tab1.waitForSelector('#password');
  // Tab 2 runs a whole launch for another patient meanwhile.
  await tab2.goto(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=B-tab2`);
  await throughForms(tab2);
  await tab2.waitForSelector('#form');
  assert.is(new URL(tab2.url()).pathname, '/meds');
  assert.is(new URL(tab2.url()).searchParams.get('given'), medicated.given);
  // Tab 1 goes on where it stopped and reaches its own patient's form.
  await throughForms(tab1);
  await tab1.waitForSelector('#form');
  const first = new URL(tab1.url());
  assert.is(first.pathname, '/peds');
  assert.is(first.searchParams.get('given'), child.given);
  await tab1.close();
  await tab2.close();
});

test.run();
