// Two runtimes on one PostgreSQL store behind a round-robin load balancer: a launch that begins on
// one runtime completes on the other (the EHR's callback reaches whichever the balancer picks),
// because the launch session is in the shared store and both runtimes hold the same session key.
// A runtime asked to share a store with a launch that has no session key refuses to start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { walkRedirects } from '../../peers/redirect-walker.ts';
import { startSmartStack, type SmartStack } from '../../peers/smart-stack.ts';
import { createTestDatabase, type TestDatabase } from '../../runtime/store/pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { openPostgresStore, type PostgresStore } from '../../../runtime/store/postgres/open-postgres-store.ts';
import { verifySignedUrl } from '../../../modules/smart/signed-params.ts';
import { compileHdc, freePort, startConnector, startFormPages, type ConnectorRuntime, type FormPages } from './smart-harness.ts';
import { fixturePatients, launchHdc } from './launch-fixture.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';
process.env.SMART_SESSION_KEY = 'one-key-for-every-runtime';
const { child } = fixturePatients();

let database: TestDatabase | null = null;
let stack: SmartStack | undefined;
let forms: FormPages | undefined;
let balancer: Server | undefined;
const runtimes: ConnectorRuntime[] = [];
const stores: PostgresStore[] = [];
/** Which runtime (0 or 1) answered each path, in order. */
const served: Array<{ path: string; runtime: number }> = [];

/** Sends each request to the next runtime in turn, as a round-robin load balancer does. */
function startBalancer(port: number, backends: () => number[]): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    const runtime = next++ % 2;
    served.push({ path: new URL(req.url!, 'http://lb').pathname, runtime });
    const upstream = request({ host: '127.0.0.1', port: backends()[runtime], path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test.before(async () => {
  database = await createTestDatabase('smart_cluster');
  if (!database) return;
  forms = await startFormPages();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  stack = await startSmartStack({
    fhir: { seed: [child.file] },
    auth: {
      clients: [{ clientId: 'intake-app', clientSecret: 'intake-secret', redirectUris: [`${base}/smart/intake/callback`] }],
      users: [{ username: 'dr.who', password: 'tardis', fhirUser: 'Practitioner/who-1' }],
      interaction: 'auto',
      defaultPatient: child.id,
    },
  });
  const plan = compileHdc(launchHdc({ fhirBase: stack.fhir.baseUrl, formsOrigin: forms.origin }).replace('  scope ', '  session_key env("SMART_SESSION_KEY")\n  scope '));
  for (let i = 0; i < 2; i++) {
    const store = await openPostgresStore(plan, { url: database.url, runtimeId: `smart-${i}` });
    stores.push(store);
    runtimes.push(await startConnector(plan, await freePort(), { over: { publicUrl: base, journal: store.journal, shared: store } }));
  }
  balancer = await startBalancer(port, () => runtimes.map((r) => r.port));
});

test.after(async () => {
  balancer?.close();
  for (const rt of runtimes) await rt.stop();
  for (const s of stores) await s.close();
  await stack?.close();
  await forms?.close();
  await database?.drop();
});

test('a launch begun on one runtime completes on the other', async () => {
  if (!database) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const base = `http://127.0.0.1:${(balancer!.address() as AddressInfo).port}`;
  stack!.auth.registerLaunch('L-cluster', { patient: child.id, need_patient_banner: true });
  const r = await walkRedirects(`${base}/smart/intake/launch?iss=${encodeURIComponent(stack!.fhir.baseUrl)}&launch=L-cluster`, {
    stopWhen: (u) => u.origin === forms!.origin,
  });
  assert.ok(r.stopped, `stopped at ${r.url}: ${r.status} ${r.body.slice(0, 300)}`);
  const url = new URL(r.url);
  assert.is(url.pathname, '/peds');
  assert.is(url.searchParams.get('given'), child.given);
  assert.equal(verifySignedUrl(url, 'form-signing-key'), { ok: true });
  const launch = served.find((s) => s.path === '/smart/intake/launch')!;
  const callback = served.find((s) => s.path === '/smart/intake/callback')!;
  assert.ok(launch && callback, JSON.stringify(served));
  assert.is.not(launch.runtime, callback.runtime, 'the balancer sent the callback to the other runtime');
  // The session row is in PostgreSQL, finished and wiped; neither runtime's SQLite file has it.
  const pg = await stores[0]!.sql.all<{ phase: string; pkce_verifier: string | null }>('SELECT phase, pkce_verifier FROM smart_launch_sessions');
  assert.equal(pg, [{ phase: 'done', pkce_verifier: null }]);
  for (const rt of runtimes) assert.is((rt.db.prepare('SELECT count(*) AS n FROM smart_launch_sessions').get() as { n: number }).n, 0);
});

test('a runtime sharing a PostgreSQL store refuses a launch without a session key, naming its line', async () => {
  if (!database) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const plan = compileHdc(launchHdc({ name: 'unkeyed', fhirBase: stack!.fhir.baseUrl, formsOrigin: forms!.origin }));
  const store = await openPostgresStore(plan, { url: database.url, runtimeId: 'smart-unkeyed', rolling: true });
  try {
    const started = await startConnector(plan, await freePort(), { over: { journal: store.journal, shared: store } }).then(
      async (rt) => {
        await rt.stop();
        return null;
      },
      (err: Error) => err,
    );
    assert.ok(started, 'the runtime started');
    assert.match(started!.message, /launch\.hdc:\d+(:\d+)?: smart launch unkeyed needs session_key/, started!.message);
  } finally {
    await store.close();
  }
});

test.run();
