// Authentication against a real oidc-provider and a real FHIR server that verifies bearer tokens:
// client_secret_basic/post, SMART Backend Services private_key_jwt (RS384, ES384), discovery
// from a smart-configuration without `issuer`, caching and single-flight, expiry and renewal,
// 401 → one fresh token and one retry, and a wrong key failing permanently.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientCredentialsAuth } from '../../../../runtime/workflows/auth/client-credentials.ts';
import { createAuth } from '../../../../runtime/workflows/auth/create-auth.ts';
import { loadClientKey } from '../../../../runtime/workflows/auth/private-key.ts';
import { WorkflowError } from '../../../../runtime/workflows/workflow-error.ts';
import { createValueResolver } from '../../../../runtime/workflows/resolve-value.ts';
import { ApiClient } from '../../../../runtime/workflows/http/api-client.ts';
import { GotTransport } from '../../../../runtime/workflows/http/got-transport.ts';
import { startAuthServer, type AuthServer } from '../../../peers/auth-server.ts';
import { testKeyPair, type TestKeyPair } from '../../../peers/client-keys.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { smartConfigurationFor } from '../../../peers/smart-configuration.ts';

let fhir: FhirServer;
let auth: AuthServer;
let rs: TestKeyPair;
let es: TestKeyPair;
let stranger: TestKeyPair;
const transport = new GotTransport();
const scope = 'system/Patient.rs';

test.before(async () => {
  rs = await testKeyPair('RS384', 'engine-rs');
  es = await testKeyPair('ES384', 'engine-es');
  stranger = await testKeyPair('RS384', 'stranger');
  fhir = await startFhirServer();
  auth = await startAuthServer({
    fhirBase: fhir.baseUrl,
    clients: [
      { clientId: 'basic-client', clientSecret: 'basic-secret-123', auth: 'client_secret_basic' },
      { clientId: 'post-client', clientSecret: 'post-secret-456', auth: 'client_secret_post' },
      { clientId: 'rs-client', jwks: { keys: [rs.publicJwk] }, auth: 'private_key_jwt', assertionAlg: 'RS384' },
      { clientId: 'es-client', jwks: { keys: [es.publicJwk] }, auth: 'private_key_jwt', assertionAlg: 'ES384' },
    ],
  });
  fhir.attachAuth({ verifyToken: (t) => auth.verifyAccessToken(t), smartConfig: smartConfigurationFor(auth, { omitIssuer: true }) });
  await fhir.repo.createResource({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'x1' }] } as never);
});
test.after(async () => {
  transport.close();
  await auth.close();
  await fhir.close();
});

function fhirClient(provider: ReturnType<typeof createAuth>) {
  return new ApiClient(
    { name: 'ehr', kind: 'fhir', baseUrl: fhir.baseUrl, headers: {}, timeoutMs: 5000, retry: { attempts: 2, backoffMs: 10 } },
    transport,
    provider,
  );
}
const searchPatients = { method: 'GET' as const, path: 'Patient', query: [['identifier', 'urn:test|x1']] as Array<[string, string]>, idempotent: true, responseType: 'json' as const, label: 'GET ehr Patient', src: 'ehr.hdc:7:1-7:30' };

async function failure(p: Promise<unknown>): Promise<WorkflowError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, WorkflowError);
    return err as WorkflowError;
  }
  throw new Error('expected a failure');
}

const resolve = createValueResolver();
const provider = (clientId: string, extra: Record<string, unknown>) =>
  createAuth({ name: clientId, kind: 'smart_backend', clientId, scope, tokenUrl: auth.tokenEndpoint, src: 'ehr.hdc:1:1-5:2', ...extra } as never, resolve);

for (const [clientId, extra] of [
  ['basic-client', { clientAuth: 'client_secret_basic', clientSecret: 'basic-secret-123' }],
  ['post-client', { clientAuth: 'client_secret_post', clientSecret: 'post-secret-456' }],
] as const) {
  test(`${extra.clientAuth}: a token reaches the FHIR server, which accepts it`, async () => {
    const before = auth.tokenRequests;
    const res = await fhirClient(provider(clientId, extra)).request(searchPatients);
    assert.is(res.status, 200);
    assert.is((res.body as { entry: unknown[] }).entry.length, 1);
    assert.is(auth.tokenRequests - before, 1);
  });
}

for (const alg of ['RS384', 'ES384'] as const) {
  test(`private_key_jwt ${alg} (PEM and JWK keys): SMART-shaped assertions accepted`, async () => {
    const key = alg === 'RS384' ? rs : es;
    const clientId = alg === 'RS384' ? 'rs-client' : 'es-client';
    for (const material of [key.privatePem, JSON.stringify(key.privateJwk)]) {
      const p = provider(clientId, { clientAuth: 'private_key_jwt', privateKey: material, alg, kid: key.kid });
      const res = await fhirClient(p).request(searchPatients);
      assert.is(res.status, 200);
    }
  });
}

test('the client assertion: typ JWT, kid, alg, iss = sub = client id, aud = token endpoint, exp ≤ 5 min, unique jti', async () => {
  const assertions: string[] = [];
  const tokenServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      assertions.push(form.get('client_assertion')!);
      assert.is(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      assert.is(form.get('grant_type'), 'client_credentials');
      assert.is(form.get('scope'), scope);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `tok${assertions.length}`, token_type: 'Bearer', expires_in: 1 }));
    });
  });
  await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
  const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth2/token`;
  try {
    const p = new ClientCredentialsAuth({
      name: 'ehr',
      clientId: 'my-client',
      scope,
      tokenUrl,
      auth: { method: 'private_key_jwt', key: () => loadClientKey(es.privatePem, 'ES384') },
      renewBeforeMs: 0,
    });
    assert.is(await p.authorization(), 'Bearer tok1');
    await new Promise((r) => setTimeout(r, 1100));
    assert.is(await p.authorization(), 'Bearer tok2');
    const headers = assertions.map((a) => decodeProtectedHeader(a));
    const claims = assertions.map((a) => decodeJwt(a));
    for (const [i, h] of headers.entries()) {
      assert.is(h.typ, 'JWT');
      assert.is(h.alg, 'ES384');
      assert.ok(typeof h.kid === 'string' && h.kid.length > 20, 'kid from the key thumbprint');
      const c = claims[i];
      assert.is(c.iss, 'my-client');
      assert.is(c.sub, 'my-client');
      assert.is(c.aud, tokenUrl);
      assert.ok(c.exp! - c.iat! <= 300 && c.exp! > Date.now() / 1000);
    }
    assert.is.not(claims[0].jti, claims[1].jti);
  } finally {
    await new Promise((r) => tokenServer.close(r));
  }
});

test('token endpoint discovered from the FHIR base (smart-configuration without issuer)', async () => {
  const p = createAuth({ name: 'ehr', kind: 'oauth2', clientId: 'basic-client', clientSecret: 'basic-secret-123', scope, src: 'ehr.hdc:1:1-5:2' }, resolve, fhir.baseUrl);
  const res = await fhirClient(p).request(searchPatients);
  assert.is(res.status, 200);
});

test('one token shared by concurrent requests (single flight), renewed after expiry', async () => {
  // The client's clock is the test's: expiry is reached by moving it, not by waiting (a loaded
  // machine must not renew early or late). The server's tokens live long enough for the test.
  let clock = Date.now();
  const p = new ClientCredentialsAuth({
    name: 'ehr', clientId: 'basic-client', scope, tokenUrl: auth.tokenEndpoint,
    auth: { method: 'client_secret_basic', secret: 'basic-secret-123' }, now: () => clock,
  });
  const c = fhirClient(p);
  const before = auth.tokenRequests;
  await Promise.all(Array.from({ length: 20 }, () => c.request(searchPatients)));
  assert.is(auth.tokenRequests - before, 1);
  await Promise.all(Array.from({ length: 5 }, () => c.request(searchPatients)));
  assert.is(auth.tokenRequests - before, 1);
  clock += 300_000; // past the token's lifetime (the server's default, 300 s)
  await Promise.all(Array.from({ length: 5 }, () => c.request(searchPatients)));
  assert.is(auth.tokenRequests - before, 2);
});

test('401 → one fresh token and one retry', async () => {
  const p = provider('post-client', { clientAuth: 'client_secret_post', clientSecret: 'post-secret-456' });
  const c = fhirClient(p);
  await c.request(searchPatients);
  const before = auth.tokenRequests;
  fhir.requests.length = 0;
  fhir.fault({ status: 401, times: 1, pathPrefix: '/fhir/Patient' });
  const res = await c.request(searchPatients);
  assert.is(res.status, 200);
  assert.is(auth.tokenRequests - before, 1);
  assert.equal(fhir.requests.filter((r) => r.path === '/fhir/Patient').map((r) => r.status), [401, 200]);
  // Refused again after the fresh token: permanent, no third try.
  fhir.requests.length = 0;
  fhir.fault({ status: 401, times: 2, pathPrefix: '/fhir/Patient' });
  const err = await failure(c.request(searchPatients));
  assert.not.ok(err.transient);
  assert.is(err.status, 401);
  assert.is(fhir.requests.filter((r) => r.path === '/fhir/Patient').length, 2);
});

test('a wrong key or secret fails permanently, and the error carries no secret', async () => {
  const wrongKey = provider('rs-client', { clientAuth: 'private_key_jwt', privateKey: stranger.privatePem, alg: 'RS384', kid: rs.kid });
  const e1 = await failure(fhirClient(wrongKey).request(searchPatients));
  assert.not.ok(e1.transient);
  assert.match(e1.message, /^ehr\.hdc:7: auth rs-client: token request failed: 400 invalid_client|^ehr\.hdc:7: auth rs-client: token request failed: 401 invalid_client/);
  const wrongSecret = provider('basic-client', { clientAuth: 'client_secret_basic', clientSecret: 'not-the-secret' });
  const e2 = await failure(fhirClient(wrongSecret).request(searchPatients));
  assert.not.ok(e2.transient);
  assert.not.match(e2.message, /not-the-secret/);
  assert.not.match(JSON.stringify(e2), /not-the-secret/);
});

test('an unreachable token endpoint is transient', async () => {
  const p = provider('basic-client', { clientAuth: 'client_secret_basic', clientSecret: 'x', tokenUrl: 'http://127.0.0.1:1/token' });
  const err = await failure(fhirClient(p).request(searchPatients));
  assert.ok(err.transient, err.message);
});

test.run();
