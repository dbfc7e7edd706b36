// FHIR and authorization servers behind a private CA (HTTPS on loopback): the API's `tls.ca`
// reaches discovery and the token endpoint too, not only the FHIR requests; without it the
// connection is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Api, Auth } from '../../../../plan/plan.types.ts';
import { createApiRegistry } from '../../../../runtime/workflows/api-registry.ts';
import { createValueResolver } from '../../../../runtime/workflows/resolve-value.ts';
import { WorkflowError } from '../../../../runtime/workflows/workflow-error.ts';
import { createCertificateAuthority, issueCertificate } from '../../../../runtime/platform/tls/certificate-authority.ts';
import { startAuthServer, type AuthServer } from '../../../peers/auth-server.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { smartConfigurationFor } from '../../../peers/smart-configuration.ts';

let fhir: FhirServer;
let auth: AuthServer;
let caPem = '';

test.before(async () => {
  const ca = await createCertificateAuthority('hdc test private CA');
  caPem = ca.cert;
  const server = await issueCertificate(ca, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  fhir = await startFhirServer({ tls: { key: server.key, cert: server.cert } });
  auth = await startAuthServer({ fhirBase: fhir.baseUrl, tls: { key: server.key, cert: server.cert }, clients: [{ clientId: 'c', clientSecret: 'tls-secret', auth: 'client_secret_basic' }] });
  fhir.attachAuth({ verifyToken: (t) => auth.verifyAccessToken(t), smartConfig: smartConfigurationFor(auth, { omitIssuer: true }) });
});
test.after(async () => {
  await auth.close();
  await fhir.close();
});

const authDecl: Auth = { name: 'ehr_auth', kind: 'oauth2', clientAuth: 'client_secret_basic', clientId: 'c', clientSecret: 'tls-secret', scope: 'system/Patient.rs', src: 'tls.hdc:1:1-1:2' };
const apiDecl = (tls?: Api['tls']): Api => ({ name: 'ehr', kind: 'fhir', baseUrl: fhir.baseUrl, auth: 'ehr_auth', timeoutMs: 5000, retry: { attempts: 1, backoffMs: 1 }, ...(tls ? { tls } : {}), src: 'tls.hdc:2:1-2:2' });
const search = { method: 'GET' as const, path: 'Patient', idempotent: true, responseType: 'json' as const, label: 'GET ehr Patient', src: 'tls.hdc:5:1-5:2' };

test('discovery, token and FHIR requests all trust the API CA', async () => {
  assert.ok(fhir.baseUrl.startsWith('https://'));
  const registry = createApiRegistry({ auths: [authDecl], apis: [apiDecl({ ca: caPem })] }, { resolve: createValueResolver() });
  try {
    const res = await registry.clients.get('ehr')!.request(search);
    assert.is(res.status, 200);
    assert.is(auth.tokenRequests, 1);
  } finally {
    registry.close();
  }
});

test('without the CA the certificate is refused, permanently and without secrets in the message', async () => {
  const registry = createApiRegistry({ auths: [authDecl], apis: [apiDecl()] }, { resolve: createValueResolver() });
  try {
    await registry.clients.get('ehr')!.request(search);
    assert.unreachable('should have failed');
  } catch (err) {
    assert.instance(err, WorkflowError);
    assert.match((err as Error).message, /^tls\.hdc:5: auth ehr_auth: token request failed: TLS certificate not trusted \(\w+\)$/);
    assert.not.ok((err as WorkflowError).transient);
    assert.not.match((err as Error).message, /tls-secret/);
  } finally {
    registry.close();
  }
});

test.run();
