// Bulk FHIR tests' set-up: the $export peer behind a Backend Services authorization server (the
// client signs its assertions with an RS384 or ES384 key), a project compiled from .hdc text
// naming them, and a runtime with the workflow engine and the bulk module, in-process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../../plan/plan.types.ts';
import { compile } from '../../../compiler/api.ts';
import { resolvePlanValues } from '../../../runtime/platform/config/resolve-values.ts';
import { startRuntime, type Runtime } from '../../../runtime/platform/start-runtime.ts';
import { Engine } from '../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';
import { silentLogger } from '../../../runtime/platform/log/logger.ts';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../runtime/inbound/order-key.ts';
import type { BulkInstance, BulkOptions } from '../../../modules/bulk/service.ts';
import type { ExportRow } from '../../../modules/bulk/bulk-store.ts';
import { startAuthServer, type AuthServer } from '../../peers/auth-server.ts';
import { testKeyPair, type AssertionAlg } from '../../peers/client-keys.ts';
import { startBulkExportServer, type BulkExportServer, type BulkSwitches } from '../../peers/bulk-export-server.ts';

export interface BulkPeer {
  server: BulkExportServer;
  auth: AuthServer;
  dir: string;
  /** The `auth` and `api` declarations that reach the peer. */
  declarations: string;
  /** Every token handed out so far is refused from now on (as if it expired early): the next request gets 401. */
  expireTokens(): void;
  close(): Promise<void>;
}

export async function startBulkPeer(switches: BulkSwitches = {}, opts: { alg?: AssertionAlg; tokenTtlS?: number } = {}): Promise<BulkPeer> {
  const alg = opts.alg ?? 'ES384';
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bulk-'));
  const server = await startBulkExportServer(switches);
  const key = await testKeyPair(alg, 'bulk');
  const auth = await startAuthServer({
    fhirBase: server.baseUrl,
    clients: [{ clientId: 'bulk-client', jwks: { keys: [key.publicJwk] }, assertionAlg: alg }],
    ...(opts.tokenTtlS ? { accessTokenTtl: opts.tokenTtlS } : {}),
  });
  const seen = new Set<string>();
  const refused = new Set<string>();
  server.fhir.attachAuth({
    verifyToken: async (t) => {
      if (refused.has(t)) return null;
      seen.add(t);
      const v = await auth.verifyAccessToken(t);
      return v ? { scope: v.scope } : null;
    },
    smartConfig: auth.smartConfiguration,
    enforceScopes: false,
  });
  const keyFile = join(dir, 'bulk-key.pem');
  writeFileSync(keyFile, key.privatePem);
  const declarations = `auth backend smart_backend {
  client_id "bulk-client"
  private_key file("${keyFile}")
  alg ${alg}
  kid "${key.kid}"
  scope "system/*.rs"
}

api ehr fhir "${server.baseUrl}" { auth backend }
`;
  return {
    server, auth, dir, declarations,
    expireTokens: () => seen.forEach((t) => refused.add(t)),
    async close() {
      await server.close();
      await auth.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Workflows that record each resource once by its export, file and line (a second run of the same line would overwrite, a second queued run would show in workflow_runs). */
export const RECORDING_WORKFLOWS = `
workflow take {
  store resource.resourceType in "taken" key "{bulk.export}/{bulk.file}/{bulk.line}"
}
`;

/** For `on deleted run forget`. */
export const FORGET_WORKFLOW = `
workflow forget {
  store resource.id in "forgotten" key "{resource.resourceType}/{resource.id}"
}
`;

export function compileProject(text: string, dir: string): Plan {
  const { plan, diagnostics } = compile(new Map([[join(dir, 'bulk.hdc'), text]]));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !plan) throw new Error(errors.map((d) => `${d.range.start.line}:${d.range.start.col} ${d.code} ${d.summary}`).join('\n') || 'no plan');
  return resolvePlanValues(plan, { env: process.env, workDir: dir });
}

export interface BulkRuntime {
  runtime: Runtime;
  engine: Engine;
  bulk: BulkInstance;
  stop(): Promise<void>;
}

export const FAST: BulkOptions = { timers: { pollBaseMs: 20, pollMaxMs: 200, downloadBackoffMs: 20, batchLines: 50 }, pickupMs: 50 };

export async function startBulkRuntime(plan: Plan, dataDir: string, options: BulkOptions = FAST): Promise<BulkRuntime> {
  const runtime = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir, maxBodyBytes: 1024 * 1024, requestTimeoutMs: 10_000,
    shutdownTimeoutMs: 2000, logPhi: false, log: silentLogger(), mapFields, orderKeyFor, events: new RunEvents(),
    moduleOptions: { bulk: options },
  });
  const engine = new Engine({ db: runtime.db, plan, events: runtime.events, logger: silentLogger(), onFatal: runtime.fatal });
  runtime.attachEngine(engine);
  runtime.addService({ stop: () => engine.stop(), ready: () => engine.writerUp });
  engine.start();
  const bulk = runtime.modules.get('bulk') as BulkInstance;
  return { runtime, engine, bulk, stop: () => runtime.close() };
}

/** Resolves with the export's final row, whatever order the events come in. */
export function settled(bulk: BulkInstance, id: string, db: Runtime['db']): Promise<ExportRow> {
  return new Promise((resolve) => {
    const check = (row: ExportRow) => {
      if (row.id !== id) return;
      bulk.events.off('settled', check);
      resolve(row);
    };
    bulk.events.on('settled', check);
    const now = db.prepare('SELECT * FROM bulk_exports WHERE id = ?').get(id) as ExportRow | undefined;
    if (now && ['done', 'failed', 'cancelled'].includes(now.status)) check(now);
  });
}

/** Waits until every queued run has finished. */
export async function drained(rt: BulkRuntime): Promise<void> {
  for (;;) {
    await rt.engine.idle();
    const left = rt.runtime.db.prepare("SELECT COUNT(*) AS n FROM workflow_runs WHERE status IN ('queued','running','failed')").get() as { n: number };
    if (!left.n) return;
    await new Promise<void>((r) => rt.runtime.events.once('finished', () => r()));
  }
}

export function taken(rt: BulkRuntime, collection = 'taken'): Record<string, number> {
  const rows = rt.runtime.db.prepare('SELECT value, COUNT(*) AS n FROM stored_records WHERE collection = ? GROUP BY value').all(collection) as Array<{ value: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [JSON.parse(r.value) as string, r.n]));
}

export function runsPerLine(rt: BulkRuntime): { runs: number; lines: number } {
  return rt.runtime.db.prepare("SELECT COUNT(*) AS runs, COUNT(DISTINCT json_extract(input, '$.message.controlId')) AS lines FROM workflow_runs WHERE sender LIKE 'bulk/%'").get() as { runs: number; lines: number };
}
