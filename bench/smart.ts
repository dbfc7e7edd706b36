// `npm run bench:smart`: complete SMART EHR launches (launch → authorize → callback → token →
// three FHIR fetches with paging → rule-chosen signed redirect) through the connector, driven by an
// HTTP client that follows redirects and keeps cookies, against the local peers (oidc-provider as
// the EHR's authorization server with auto-approval, the Medplum FHIR server with Synthea data).
// The connector's own time per launch is measured inside it: handler wall time minus the time
// its handlers spent awaiting the peers. Baseline, in the same run: the same handshake and
// fetches done directly against the peers by a minimal client, without the connector.
import { mkdirSync, writeFileSync } from 'node:fs';
import { silentLogger } from '../runtime/platform/log/logger.ts';
import { CookieJar, walkRedirects } from '../test/peers/redirect-walker.ts';
import { authorizeUrl, pkcePair, randomState, tokenRequest } from '../test/peers/oauth-test-client.ts';
import { startSmartStack } from '../test/peers/smart-stack.ts';
import { fixturePatients, launchHdc } from '../test/modules/smart/launch-fixture.ts';
import { compileHdc, freePort, launchesOf, startConnector } from '../test/modules/smart/smart-harness.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const FORMS = 'https://forms.bench.invalid';

process.env.INTAKE_SECRET = 'bench-secret';
process.env.FORM_KEY = 'bench-form-key';
const { child, medicated, general } = fixturePatients();
const patients = [child, medicated, general];

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const directRedirect = 'http://127.0.0.1:9/direct-callback';
const stack = await startSmartStack({
  fhir: { seed: patients.map((p) => p.file) },
  auth: {
    clients: [
      { clientId: 'intake-app', clientSecret: 'bench-secret', redirectUris: [`${base}/smart/intake/callback`] },
      { clientId: 'direct-app', clientSecret: 'bench-secret', redirectUris: [directRedirect] },
    ],
    users: [{ username: 'dr', password: 'pw', fhirUser: 'Practitioner/1' }],
    interaction: 'auto',
  },
});
const plan = compileHdc(launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: FORMS, standalone: false }));
const rt = await startConnector(plan, port, { log: silentLogger() });
const smart = launchesOf(rt);
const scope = 'launch openid fhirUser patient/Patient.rs patient/MedicationRequest.rs patient/Observation.rs';

let seq = 0;
function nextLaunch(): { id: string; patient: string } {
  const n = seq++;
  const id = `bench-${n}`;
  const patient = patients[n % patients.length]!.id;
  stack.auth.registerLaunch(id, { patient });
  return { id, patient };
}

/** One launch through the connector; resolves to the final (form) URL. */
async function connectorLaunch(): Promise<string> {
  const { id } = nextLaunch();
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack.fhir.baseUrl)}&launch=${id}`, {
    jar: new CookieJar(),
    stopWhen: (u) => u.origin === FORMS,
  });
  if (!r.stopped) throw new Error(`launch ended at ${r.url} with ${r.status}: ${r.body.slice(0, 200)}`);
  return r.url;
}

/** The same work without the connector: authorize, code exchange, the three fetches. */
async function directLaunch(): Promise<void> {
  const { id, patient } = nextLaunch();
  const { verifier, challenge } = pkcePair();
  const state = randomState();
  const r = await walkRedirects(
    authorizeUrl(stack.auth.authorizationEndpoint, { clientId: 'direct-app', redirectUri: directRedirect, scope, state, challenge, aud: stack.fhir.baseUrl, launch: id }),
    { jar: new CookieJar(), stopWhen: (u) => u.href.startsWith(directRedirect) },
  );
  const code = new URL(r.url).searchParams.get('code');
  if (!code) throw new Error('no code');
  const t = await tokenRequest(stack.auth.tokenEndpoint, { grant_type: 'authorization_code', code, redirect_uri: directRedirect, code_verifier: verifier }, { clientId: 'direct-app', clientSecret: 'bench-secret' });
  const headers = { authorization: `Bearer ${t.body.access_token}`, accept: 'application/fhir+json' };
  const get = async (url: string) => (await fetch(url, { headers })).json() as Promise<{ link?: Array<{ relation: string; url: string }> }>;
  await get(`${stack.fhir.baseUrl}/Patient/${patient}`);
  await get(`${stack.fhir.baseUrl}/MedicationRequest?patient=Patient/${patient}`);
  let page = await get(`${stack.fhir.baseUrl}/Observation?patient=Patient/${patient}&_count=10`);
  for (let i = 1; i < 3; i++) {
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    page = await get(next);
  }
}

async function drive(fn: () => Promise<unknown>, seconds: number): Promise<{ count: number; perSec: number; p50: number; p95: number }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await fn();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { count: latencies.length, perSec: latencies.length / elapsed, p50: q(0.5), p95: q(0.95) };
}

try {
  // Every rule is reached, and the answers are right, before anything is timed.
  const targets = new Set<string>();
  for (let i = 0; i < patients.length; i++) targets.add(new URL(await connectorLaunch()).pathname);
  if (targets.size !== 3) throw new Error(`expected the three forms, got ${[...targets].join(', ')}`);
  await drive(connectorLaunch, 1);
  await drive(directLaunch, 1);

  const before = { ...smart.timing };
  const connector = await drive(connectorLaunch, SECONDS);
  const after = smart.timing;
  const launches = after.completed - before.completed;
  const connectorMs = (after.totalMs - before.totalMs - (after.peerMs - before.peerMs)) / launches;
  const peerMs = (after.peerMs - before.peerMs) / launches;
  const direct = await drive(directLaunch, SECONDS);

  const round = (n: number, d = 2) => Number(n.toFixed(d));
  console.log(`connector: ${connector.count} launches in ${SECONDS} s at concurrency ${CONCURRENCY}: ${round(connector.perSec, 1)}/s, p50 ${round(connector.p50, 1)} ms, p95 ${round(connector.p95, 1)} ms`);
  console.log(`  inside the connector per launch: ${round(connectorMs)} ms own work, ${round(peerMs, 1)} ms awaiting the peers (${round((after.requests - before.requests) / launches, 1)} requests)`);
  console.log(`direct (no connector): ${direct.count} launches: ${round(direct.perSec, 1)}/s, p50 ${round(direct.p50, 1)} ms, p95 ${round(direct.p95, 1)} ms`);
  console.log(`target: connector share < 10 ms/launch — ${connectorMs < 10 ? 'met' : 'NOT met'}`);
  const result = {
    bench: 'smart',
    launchesPerSec: round(connector.perSec, 1),
    p95Ms: round(connector.p95, 1),
    connectorMsPerLaunch: round(connectorMs),
    peerMsPerLaunch: round(peerMs, 1),
    directLaunchesPerSec: round(direct.perSec, 1),
    directP95Ms: round(direct.p95, 1),
    concurrency: CONCURRENCY,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/smart.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify({ bench: 'smart', launchesPerSec: result.launchesPerSec, p95Ms: result.p95Ms, connectorMsPerLaunch: result.connectorMsPerLaunch }));
} finally {
  await rt.stop();
  await stack.close();
}
