// The peers against openid-client, the OAuth library the connector uses: SMART Backend Services
// with a smart-configuration that has no `issuer`, then FHIR reads with the token.
import * as client from 'openid-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testKeyPair } from '../peers/client-keys.ts';
import { startSmartStack, type SmartStack } from '../peers/smart-stack.ts';
import { syntheaPatients } from '../peers/synthea.ts';

let stack: SmartStack;
const patients = syntheaPatients();
const es384 = await testKeyPair('ES384', 'stack');

test.before(async () => {
  stack = await startSmartStack({
    fhir: { seed: 'synthea' },
    auth: {
      accessTokenTtl: 2,
      clients: [{ clientId: 'backend', jwks: { keys: [es384.publicJwk] } }],
    },
    smartConfiguration: { omitIssuer: true },
  });
});
test.after(() => stack.close());

async function backendConfig() {
  const smart = await (await fetch(`${stack.fhir.baseUrl}/.well-known/smart-configuration`)).json();
  assert.is(smart.issuer, undefined);
  const config = new client.Configuration(
    { issuer: stack.fhir.baseUrl, token_endpoint: smart.token_endpoint },
    'backend',
    {},
    client.PrivateKeyJwt(es384.privateKey, {
      [client.modifyAssertion]: (header, payload) => {
        header.typ = 'JWT';
        header.kid = es384.kid;
        payload.aud = smart.token_endpoint;
      },
    }),
  );
  client.allowInsecureRequests(config);
  return config;
}

test('openid-client gets a backend token (ES384 private_key_jwt) and reads Synthea data', async () => {
  const config = await backendConfig();
  const before = stack.auth.tokenRequests;
  const tokens = await client.clientCredentialsGrant(config, { scope: 'system/Patient.rs system/Encounter.rs' });
  assert.is(stack.auth.tokenRequests, before + 1);
  assert.is(tokens.scope, 'system/Patient.rs system/Encounter.rs');
  assert.is(tokens.expires_in, 2);
  const h = { authorization: `Bearer ${tokens.access_token}` };
  const bundle = await (await fetch(`${stack.fhir.baseUrl}/Patient?_count=50`, { headers: h })).json();
  assert.is(bundle.total, patients.length);
  const rec = stack.fhir.requests.at(-1)!;
  assert.is(rec.auth, 'Bearer');
  assert.is(rec.status, 200);

  await new Promise((r) => setTimeout(r, 3100));
  const expired = await fetch(`${stack.fhir.baseUrl}/Patient?_count=1`, { headers: h });
  assert.is(expired.status, 401);
  assert.match(expired.headers.get('www-authenticate')!, /invalid_token/);
  const again = await client.clientCredentialsGrant(config, { scope: 'system/Patient.rs' });
  const ok = await fetch(`${stack.fhir.baseUrl}/Patient?_count=1`, { headers: { authorization: `Bearer ${again.access_token}` } });
  assert.is(ok.status, 200);
});

test.run();
