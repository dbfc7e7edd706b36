// Shared set-up for the SMART launch tests: the real peers (FHIR server seeded with Synthea, the
// SMART authorization server, optionally an external IdP), an HTTPS page server standing in for
// the forms the launch redirects to, and the runtime started from a real .hdc compiled once the
// peers' URLs are known.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compileSources } from '../../../compiler/api.ts';
import type { Plan } from '../../../plan/plan.types.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';
import { silentLogger, type Logger } from '../../../runtime/platform/log/logger.ts';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../runtime/inbound/order-key.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../../runtime/platform/start-runtime.ts';
import { listenLoopback, type Listening } from '../../peers/listen.ts';
import { selfSignedCert } from '../../peers/self-signed.ts';
import type { SmartModuleInstance } from '../../../modules/smart/service.ts';
import type { SmartRoutes } from '../../../modules/smart/smart-routes.ts';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Compiles .hdc text; throws with the diagnostics when it has errors. */
export function compileHdc(text: string, file = 'launch.hdc'): Plan {
  const { plan, diagnostics } = compileSources(new Map([[file, text]]));
  if (!plan) throw new Error(`compile failed:\n${diagnostics.map((d) => `${d.code} ${d.summary} (${d.range.start.line}:${d.range.start.col})`).join('\n')}`);
  return plan;
}

/** The forms the launches send the browser to: HTTPS on loopback, every hit recorded. */
export interface FormPages {
  origin: string;
  hits: URL[];
  close(): Promise<void>;
}

export async function startFormPages(): Promise<FormPages> {
  const listening: Listening = await listenLoopback(await selfSignedCert());
  const hits: URL[] = [];
  listening.setHandler((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', listening.origin);
    hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Form</title><p id="form">${url.pathname.replace(/[^a-z0-9/-]/gi, '')}</p>`);
  });
  return { origin: listening.origin, hits, close: () => listening.close() };
}

export interface ConnectorRuntime extends Runtime {
  dir: string;
  stop(): Promise<void>;
}

/** Starts the runtime on `port` (HTTPS with the self-signed loopback certificate when `https`). */
export async function startConnector(plan: Plan, port: number, opts: { https?: boolean; log?: Logger; over?: Partial<RuntimeOptions> } = {}): Promise<ConnectorRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-smart-'));
  let tls: RuntimeOptions['tls'] = null;
  if (opts.https) {
    const { writeFileSync } = await import('node:fs');
    const cert = await selfSignedCert();
    writeFileSync(join(dir, 'server.crt'), cert.cert);
    writeFileSync(join(dir, 'server.key'), cert.key);
    tls = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  }
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port, tls, dataDir: join(dir, 'data'), maxBodyBytes: 1024 * 1024, requestTimeoutMs: 30_000,
    shutdownTimeoutMs: 2000, logPhi: false, log: opts.log ?? silentLogger(), mapFields, orderKeyFor, events: new RunEvents(),
    ...opts.over,
  });
  return Object.assign(rt, {
    dir,
    async stop() {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A pino destination that keeps every line, to assert what the log says (and does not say). */
export function memoryLog(): { lines: string[]; destination: { write(s: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

/** The SMART module's launch routes of a running connector. */
export function launchesOf(rt: { modules: ReadonlyMap<string, unknown> }): SmartRoutes {
  const instance = rt.modules.get('smart') as SmartModuleInstance | undefined;
  if (!instance) throw new Error('the SMART module is not running (the plan has no launches)');
  return instance.launches;
}
