// The Bulk Data test peer for the example: a FHIR server on http://127.0.0.1:8700/fhir seeded
// with the Synthea corpus, answering $export at system, patient and group level, behind a SMART
// Backend Services authorization server that knows the client "bulk-demo" by the public half of
// the ES384 key written to .hdc-bulk-demo/client-key.jwk (a private JWK with its kid). Stop it with Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAuthServer } from './auth-server.ts';
import { testKeyPair } from './client-keys.ts';
import { startBulkExportServer } from './bulk-export-server.ts';

const root = new URL('../..', import.meta.url).pathname;
const server = await startBulkExportServer({ retryAfterSeconds: 1, linesPerFile: 200 }, { seed: 'synthea', port: Number(process.env.BULK_PEER_PORT ?? 8700) });
const key = await testKeyPair('ES384', 'bulk-demo');
const auth = await startAuthServer({ fhirBase: server.baseUrl, clients: [{ clientId: 'bulk-demo', jwks: { keys: [key.publicJwk] }, assertionAlg: 'ES384' }] });
server.fhir.attachAuth({
  verifyToken: async (t) => {
    const v = await auth.verifyAccessToken(t);
    return v ? { scope: v.scope } : null;
  },
  smartConfig: auth.smartConfiguration,
});
const dir = join(root, '.hdc-bulk-demo');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'client-key.jwk'), JSON.stringify(key.privateJwk), { mode: 0o600 });
console.log(`$export peer on ${server.baseUrl} (token endpoint ${auth.tokenEndpoint}); client key in .hdc-bulk-demo/client-key.jwk`);
const stop = () => void Promise.all([server.close(), auth.close()]).then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
