// How the connector authenticates at the EHR's token endpoint: private_key_jwt with SMART's
// claims (RS384 and ES384, checked by the real authorization server), a public client (PKCE
// only), a wrong secret (token endpoint failure), and a server whose smart-configuration has no
// issuer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../runtime/platform/log/logger.ts';
import { testKeyPair } from '../../peers/client-keys.ts';
import { walkRedirects } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';
import { compileHdc, freePort, memoryLog, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';

const { child, medicated } = fixturePatients();
process.env.INTAKE_SECRET = 'not-the-secret';
process.env.FORM_KEY = 'k';

let stack: SmartStack;
let bare: SmartStack;
let forms: FormPages;
let rt: ConnectorRuntime;
let base: string;
let keyDir: string | undefined;
let jwksFile = '';
const log = memoryLog();

test.before(async () => {
  const rs = await testKeyPair('RS384', 'launch-rs');
  const es = await testKeyPair('ES384', 'launch-es');
  process.env.RS_KEY = rs.privatePem;
  process.env.ES_KEY = JSON.stringify(es.privateJwk);
  process.env.RS_KID = rs.kid;
  // A JWKS file with both private keys: the launch picks by kid, else by alg.
  keyDir = mkdtempSync(join(tmpdir(), 'hdc-jwks-'));
  jwksFile = join(keyDir, 'client.jwks');
  writeFileSync(jwksFile, JSON.stringify({ keys: [rs.privateJwk, es.privateJwk] }));
  forms = await startFormPages();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const cb = (name: string) => [`${base}/smart/${name}/callback`];
  stack = await startSmartStack({
    fhir: { seed: [child.file, medicated.file] },
    auth: {
      clients: [
        { clientId: 'rs-app', jwks: { keys: [rs.publicJwk] }, assertionAlg: 'RS384', redirectUris: cb('rs') },
        { clientId: 'es-app', jwks: { keys: [es.publicJwk] }, assertionAlg: 'ES384', redirectUris: cb('es') },
        { clientId: 'public-app', auth: 'none', redirectUris: cb('pub') },
        { clientId: 'jwks-app', jwks: { keys: [rs.publicJwk, es.publicJwk] }, redirectUris: [...cb('jwks_es'), ...cb('jwks_rs')] },
        { clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: cb('wrong') },
      ],
      users: [{ username: 'dr', password: 'pw' }],
      interaction: 'auto',
    },
  });
  bare = await startSmartStack({
    fhir: { seed: [child.file] },
    auth: { clients: [{ clientId: 'bare-app', clientSecret: 'bare', redirectUris: cb('bare') }], users: [{ username: 'dr', password: 'pw' }], interaction: 'auto' },
    smartConfiguration: { omitIssuer: true },
  });
  const scope = 'launch patient/Patient.rs patient/MedicationRequest.rs patient/Observation.rs';
  const common = { formsOrigin: forms.origin, standalone: false, scope };
  const text = [
    launchHdc({ ...common, name: 'rs', fhirBase: stack.fhir.baseUrl, client: 'client_id "rs-app"\n  private_key env("RS_KEY")\n  alg RS384\n  kid env("RS_KID")' }),
    launchHdc({ ...common, name: 'es', fhirBase: stack.fhir.baseUrl, client: 'client_id "es-app"\n  private_key env("ES_KEY")\n  alg ES384' }),
    launchHdc({ ...common, name: 'pub', fhirBase: stack.fhir.baseUrl, client: 'client_id "public-app"' }),
    launchHdc({ ...common, name: 'jwks_es', fhirBase: stack.fhir.baseUrl, client: `client_id "jwks-app"\n  private_key file("${jwksFile}")\n  alg ES384` }),
    launchHdc({ ...common, name: 'jwks_rs', fhirBase: stack.fhir.baseUrl, client: `client_id "jwks-app"\n  private_key file("${jwksFile}")\n  alg RS384\n  kid env("RS_KID")` }),
    launchHdc({ ...common, name: 'wrong', fhirBase: stack.fhir.baseUrl }),
    launchHdc({ ...common, name: 'bare', fhirBase: bare.fhir.baseUrl, client: 'client_id "bare-app"\n  client_secret env("BARE_SECRET", "bare")' }),
  ].join('\n');
  rt = await startConnector(compileHdc(text), port, { log: createLogger({ level: 'info', destination: log.destination }) });
});

test.after(async () => {
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  await rt?.stop();
  await stack?.close();
  await bare?.close();
  await forms?.close();
});

async function launch(name: string, s: SmartStack, patient: string) {
  const id = `${name}-${Math.random().toString(36).slice(2)}`;
  s.auth.registerLaunch(id, { patient });
  return walkRedirects(`${base}/smart/${name}/launch?iss=${encodeURIComponent(s.fhir.baseUrl)}&launch=${id}`, {
    stopWhen: (u) => u.origin === forms.origin,
  });
}

test('private_key_jwt RS384 with SMART claims', async () => {
  const before = stack.auth.tokenRequestsByGrant.authorization_code ?? 0;
  const r = await launch('rs', stack, medicated.id);
  assert.ok(r.stopped, r.body.slice(0, 300));
  assert.is(new URL(r.url).pathname, '/meds');
  assert.is(stack.auth.tokenRequestsByGrant.authorization_code, before + 1);
});

test('private_key_jwt ES384 (JWK key)', async () => {
  const r = await launch('es', stack, child.id);
  assert.ok(r.stopped, r.body.slice(0, 300));
  assert.is(new URL(r.url).pathname, '/peds');
});

test('public client: PKCE without client authentication', async () => {
  const r = await launch('pub', stack, child.id);
  assert.ok(r.stopped, r.body.slice(0, 300));
  assert.is(new URL(r.url).pathname, '/peds');
});

test('token endpoint failure (wrong client secret): error page, the log has the answer', async () => {
  const r = await launch('wrong', stack, child.id);
  assert.is(r.status, 502);
  const id = /id="correlation-id">([0-9a-f]+)</.exec(r.body)![1]!;
  const line = log.lines.find((l) => l.includes(id))!;
  assert.match(line, /token endpoint answered 401 invalid_client/);
  assert.not.match(line, /not-the-secret/);
});

test('private_key from a JWKS file: the key is picked by alg (ES384) or by kid (RS384)', async () => {
  const es = await launch('jwks_es', stack, child.id);
  assert.ok(es.stopped, es.body.slice(0, 300));
  assert.is(new URL(es.url).pathname, '/peds');
  const rs = await launch('jwks_rs', stack, medicated.id);
  assert.ok(rs.stopped, rs.body.slice(0, 300));
  assert.is(new URL(rs.url).pathname, '/meds');
});

test('a smart-configuration without issuer still launches (the callback\'s RFC 9207 iss names it)', async () => {
  const doc = await (await fetch(`${bare.fhir.baseUrl}/.well-known/smart-configuration`)).json();
  assert.is(doc.issuer, undefined);
  const r = await launch('bare', bare, child.id);
  assert.ok(r.stopped, r.body.slice(0, 300));
  assert.is(new URL(r.url).pathname, '/peds');
});

test.run();
