// Several launches in one browser (one cookie jar): each launch has its own cookie, named by the
// launch key its states start with, so a second tab (another patient) does not break the first.
// And behind a TLS-terminating proxy (plain HTTP in, an https public URL) the cookie keeps Secure
// and the __Host- prefix. The same in chromium: test/e2e/smart-browser.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CookieJar, walkRedirects } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { compileHdc, freePort, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';
const { child, medicated } = fixturePatients();

let stack: SmartStack;
let forms: FormPages;
let rt: ConnectorRuntime;
let proxied: ConnectorRuntime;
let base: string;

test.before(async () => {
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await startSmartStack({
    fhir: { seed: [child.file, medicated.file] },
    auth: {
      clients: [{ clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/intake/callback`] }],
      users: [{ username: 'dr.who', password: 'tardis', fhirUser: 'Practitioner/who-1' }],
      interaction: 'auto',
    },
  });
  const plan = compileHdc(launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin }));
  rt = await startConnector(plan, port);
  proxied = await startConnector(plan, await freePort(), { over: { publicUrl: 'https://connector.example.org' } });
});

test.after(async () => {
  await rt?.stop();
  await proxied?.stop();
  await stack?.close();
  await forms?.close();
});

const toForms = (u: URL) => u.origin === forms.origin;
const toCallback = (u: URL) => u.pathname === '/smart/intake/callback';

function launchUrl(id: string, patient: string, connector = base): string {
  stack.auth.registerLaunch(id, { patient });
  return `${connector}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${id}`;
}

test('two launches in one browser: the second tab completes, then the first one too', async () => {
  const jar = new CookieJar();
  // Tab 1 (a child) reaches the EHR and is on its way back to the callback…
  const first = await walkRedirects(launchUrl('T-1', child.id), { jar, stopWhen: toCallback });
  assert.ok(first.stopped);
  // …while tab 2 (another patient) runs a whole launch in the same browser.
  const second = await walkRedirects(launchUrl('T-2', medicated.id), { jar, stopWhen: toForms });
  assert.ok(second.stopped, second.body.slice(0, 300));
  assert.is(new URL(second.url).pathname, '/meds');
  const firstDone = await walkRedirects(first.url, { jar, stopWhen: toForms });
  assert.ok(firstDone.stopped, `tab 1: ${firstDone.status} ${firstDone.body.slice(0, 300)}`);
  assert.is(new URL(firstDone.url).pathname, '/peds');
  assert.is(new URL(firstDone.url).searchParams.get('given'), child.given);
  // Both cookies are cleared once their launches are done.
  assert.is(jar.header(base), undefined);
});

test('two launches started back to back, completed in reverse order', async () => {
  const jar = new CookieJar();
  const a = await walkRedirects(launchUrl('T-3', child.id), { jar, stopWhen: toCallback });
  const b = await walkRedirects(launchUrl('T-4', medicated.id), { jar, stopWhen: toCallback });
  assert.match(jar.header(base) ?? '', /hdc-launch-.*hdc-launch-/);
  const bDone = await walkRedirects(b.url, { jar, stopWhen: toForms });
  const aDone = await walkRedirects(a.url, { jar, stopWhen: toForms });
  assert.is(new URL(bDone.url).pathname, '/meds');
  assert.is(new URL(aDone.url).pathname, '/peds');
  // A replayed callback: its launch's cookie is gone (400, "not valid").
  const replay = await walkRedirects(a.url, { jar });
  assert.is(replay.status, 400);
});

test('behind a TLS-terminating proxy (https public URL, plain HTTP in): Secure and __Host- kept', async () => {
  const res = await fetch(launchUrl('T-5', child.id, proxied.url.replace(/\/$/, '')), { redirect: 'manual' });
  assert.is(res.status, 302);
  const cookie = res.headers.getSetCookie()[0]!;
  assert.match(cookie, /^__Host-hdc-launch-[A-Za-z0-9_-]{16}=/);
  assert.match(cookie, /;\s*secure/i);
  assert.match(cookie, /;\s*path=\//i);
  assert.not.match(cookie, /domain=/i);
  assert.is(new URL(res.headers.get('location')!).searchParams.get('redirect_uri'), 'https://connector.example.org/smart/intake/callback');
});

test.run();
