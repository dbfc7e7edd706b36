// EHR quirks against the real peers, in combination: a smart-configuration without `issuer` or
// `jwks_uri` whose endpoints are relative to the FHIR base (the authorization server answers on
// the FHIR server's origin, its issuer is another origin), with `openid fhirUser`; and an EHR that
// rotates its id_token signing key between launches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { walkRedirects } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { compileHdc, freePort, launchesOf, memoryLog, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';
const { child, medicated } = fixturePatients();

let quirky: SmartStack;
let rotating: SmartStack;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;
const log = memoryLog();

test.before(async () => {
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const auth = (name: string) => ({
    clients: [{ clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/${name}/callback`] }],
    users: [{ username: 'dr.who', password: 'tardis', fhirUser: 'Practitioner/who-1' }],
    interaction: 'auto' as const,
    defaultPatient: medicated.id,
  });
  quirky = await startSmartStack({ fhir: { seed: [child.file, medicated.file] }, auth: auth('quirky'), smartConfiguration: { omitIssuer: true }, relativeEndpoints: true });
  rotating = await startSmartStack({ fhir: { seed: [child.file, medicated.file] }, auth: auth('rotating') });
  const text = launchHdc({ name: 'quirky', fhirBase: quirky.fhir.baseUrl, formsOrigin: forms.origin }) + launchHdc({ name: 'rotating', fhirBase: rotating.fhir.baseUrl, formsOrigin: forms.origin });
  rt = await startConnector(compileHdc(text), port, { log: createLogger({ level: 'debug', destination: log.destination }), over: { moduleOptions: { smart: { jwksCooldownMs: 60_000 } } } });
});

test.after(async () => {
  await rt?.stop();
  await quirky?.close();
  await rotating?.close();
  await forms?.close();
});

const toForms = (u: URL) => u.origin === forms.origin;

async function launch(name: string, stack: SmartStack, patient: string, id: string) {
  stack.auth.registerLaunch(id, { patient });
  return walkRedirects(`${base}/smart/${name}/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${id}`, { stopWhen: toForms });
}

test('no issuer, relative endpoints, openid fhirUser: the issuer comes from the authorization server\'s own metadata', async () => {
  const doc = await (await fetch(`${quirky.fhir.baseUrl}/.well-known/smart-configuration`)).json() as Record<string, unknown>;
  assert.is(doc.issuer, undefined);
  assert.is(doc.jwks_uri, undefined);
  assert.is(doc.token_endpoint, '../token');
  const r = await launch('quirky', quirky, medicated.id, 'Q-1');
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  const url = new URL(r.url);
  assert.is(url.pathname, '/meds');
  assert.is(url.searchParams.get('clinician'), `${quirky.fhir.baseUrl}/Practitioner/who-1`);
  // The browser went to the FHIR origin's authorization endpoint; the id_token's issuer is another origin.
  assert.ok(r.hops.some((h) => h.startsWith(`${new URL(quirky.fhir.baseUrl).origin}/auth?`)));
  assert.is.not(quirky.auth.issuer, new URL(quirky.fhir.baseUrl).origin);
  const server = await launchesOf(rt).handlers.get('quirky')!.servers.get(quirky.fhir.baseUrl);
  assert.is(server.issuer, quirky.auth.issuer);
  assert.ok(server.idTokenKeys, 'the jwks_uri of the metadata is used for the id_token signature');
});

test('no issuer, relative endpoints: a standalone launch too', async () => {
  const r = await walkRedirects(`${base}/smart/quirky/start`, { stopWhen: toForms });
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  assert.is(new URL(r.url).pathname, '/meds');
});

test('key rotation: an id_token signed with a new kid refetches the JWKS once, then the key is cached', async () => {
  const first = await launch('rotating', rotating, child.id, 'R-1');
  assert.ok(first.stopped, first.body.slice(0, 300));
  const server = await launchesOf(rt).handlers.get('rotating')!.servers.get(rotating.fhir.baseUrl);
  const keys = server.idTokenKeys!;
  assert.is(keys.fetches, 1);
  await rotating.auth.rotateSigningKey();
  const second = await launch('rotating', rotating, child.id, 'R-2');
  assert.ok(second.stopped, `after the rotation: ${second.status} ${second.body.slice(0, 300)}`);
  assert.is(keys.fetches, 2);
  const third = await launch('rotating', rotating, medicated.id, 'R-3');
  assert.ok(third.stopped, third.body.slice(0, 300));
  assert.is(keys.fetches, 2);
});

test('key rotation: a second unknown kid within the cooldown is not fetched again; the launch fails with the cause logged', async () => {
  const server = await launchesOf(rt).handlers.get('rotating')!.servers.get(rotating.fhir.baseUrl);
  const keys = server.idTokenKeys!;
  const before = keys.fetches;
  await rotating.auth.rotateSigningKey();
  const r = await launch('rotating', rotating, child.id, 'R-4');
  assert.is(r.status, 502);
  assert.is(keys.fetches, before, 'cooldown: no refetch');
  const id = /id="correlation-id">([0-9a-f]+)</.exec(r.body)![1]!;
  const line = log.lines.find((l) => l.includes(id))!;
  assert.match(line, /JWKS matches the id_token's kid/);
});

test.run();
