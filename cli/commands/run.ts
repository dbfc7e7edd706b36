// `hdc run`: loads and checks the plan (or compiles .hdc files), resolves env()/file() values,
// starts the listener, the journal and the workflow engine, and shuts down cleanly on
// SIGTERM/SIGINT.
import { dirname } from 'node:path';
import type { Command } from '../command.ts';
import type { Plan } from '../../plan/plan.types.ts';
import { checkPlan, loadPlanFile, PlanError } from '../../plan/load-plan.ts';
import { resolvePlanValues, UnresolvedValuesError } from '../../runtime/platform/config/resolve-values.ts';
import { parseRunOptions, RUN_USAGE, type RunOptions } from '../../runtime/platform/config/run-options.ts';
import { createLogger } from '../../runtime/platform/log/logger.ts';
import { mapFields } from '../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../runtime/inbound/order-key.ts';
import { startRuntime } from '../../runtime/platform/start-runtime.ts';
import { TlsConfigError } from '../../runtime/platform/tls/server-tls.ts';
import { Engine } from '../../runtime/workflows/engine.ts';
import { chooseStore, redactUrl, type StoreChoice } from '../../runtime/store/store-choice.ts';
import type { PostgresStore } from '../../runtime/store/postgres/open-postgres-store.ts';

/** The plan's `store` once its URL is resolved (plan.store.url: an env() reference resolved to text). */
function planStore(plan: Plan): { kind: 'sqlite' | 'postgres'; url?: string } | undefined {
  const s = (plan as { store?: { kind: 'sqlite' | 'postgres'; url?: unknown } }).store;
  if (!s) return undefined;
  return { kind: s.kind, ...(typeof s.url === 'string' ? { url: s.url } : {}) };
}

async function compileSources(paths: string[]): Promise<{ plan?: Plan; errors: string[] }> {
  // Loaded only for .hdc inputs: running a plan.json never loads the compiler.
  const { compileFiles } = await import('../../compiler/api.ts');
  const { plan, diagnostics } = await compileFiles(paths);
  const errors = diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.file}:${d.range.start.line}: ${d.code} ${d.summary}`);
  return { ...(plan ? { plan } : {}), errors };
}

async function loadPlan(opts: RunOptions): Promise<{ plan: Plan; workDir: string }> {
  const jsons = opts.inputs.filter((p) => p.endsWith('.json'));
  if (jsons.length === 1 && opts.inputs.length === 1) return { plan: loadPlanFile(jsons[0]!), workDir: dirname(jsons[0]!) };
  if (jsons.length) throw new PlanError('give either one plan.json or .hdc files, not both');
  const { plan, errors } = await compileSources(opts.inputs);
  if (errors.length || !plan) throw new PlanError(errors.length ? errors.join('\n') : 'the compiler produced no plan');
  return { plan: checkPlan(plan, 'compiled plan'), workDir: process.cwd() };
}

const command: Command = {
  usage: RUN_USAGE,
  async run(args) {
    let opts: RunOptions;
    try {
      opts = parseRunOptions(args, process.env, process.cwd());
    } catch (err) {
      console.error(`hdc run: ${(err as Error).message}\n\n${RUN_USAGE}`);
      return 2;
    }
    let plan: Plan;
    try {
      const loaded = await loadPlan(opts);
      plan = resolvePlanValues(loaded.plan, { env: process.env, workDir: loaded.workDir, warn: (m) => console.error(`hdc run: warning: ${m}`) });
    } catch (err) {
      if (err instanceof PlanError || err instanceof UnresolvedValuesError) {
        console.error(`hdc run: cannot start\n${err.message.split('\n').map((l) => '  ' + l).join('\n')}`);
        return 1;
      }
      throw err;
    }
    const log = createLogger({ level: opts.logLevel, logPhi: opts.logPhi });
    let store: StoreChoice;
    try {
      store = chooseStore(planStore(plan), opts.store);
    } catch (err) {
      console.error(`hdc run: cannot start: ${(err as Error).message}`);
      return 1;
    }
    let pgStore: PostgresStore | undefined;
    if (store.kind === 'postgres') {
      try {
        // Loaded only for a PostgreSQL store: the embedded default never loads pg.
        const { openPostgresStore } = await import('../../runtime/store/postgres/open-postgres-store.ts');
        pgStore = await openPostgresStore(plan, { url: store.url, rolling: opts.rolling, leaseMs: opts.leaseMs, log });
      } catch (err) {
        console.error(`hdc run: cannot start: ${(err as Error).message}`);
        log.flush();
        return 1;
      }
    }
    let runtime;
    try {
      runtime = await startRuntime(plan, {
        ...(pgStore ? { journal: pgStore.journal, shared: pgStore } : {}),
        host: opts.host,
        port: opts.port,
        tls: opts.insecureHttp ? null : { cert: opts.cert, key: opts.key, clientCa: opts.clientCa },
        dataDir: opts.dataDir,
        maxBodyBytes: opts.maxBodyBytes,
        requestTimeoutMs: opts.requestTimeoutMs,
        shutdownTimeoutMs: opts.shutdownTimeoutMs,
        maxConnections: opts.maxConnections,
        tlsHandshakeTimeoutMs: opts.tlsHandshakeTimeoutMs,
        idleTimeoutMs: opts.idleTimeoutMs,
        ...(opts.retentionDays ? { retentionDays: opts.retentionDays } : {}),
        logPhi: opts.logPhi,
        log,
        ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
        mapFields,
        orderKeyFor,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = err instanceof TlsConfigError ? e.message
        : e.code === 'EADDRINUSE' ? `${opts.host}:${opts.port} is already in use (--port)`
        : e.code === 'EACCES' ? `not allowed to listen on ${opts.host}:${opts.port}` : e.message;
      console.error(`hdc run: cannot start: ${why}`);
      await pgStore?.close();
      log.flush();
      return 1;
    }
    if (pgStore) {
      const pg = pgStore;
      const { PgEngine } = await import('../../runtime/store/postgres/pg-engine.ts');
      const engine = new PgEngine({ pool: pg.enginePool, plan, runtimeId: pg.runtimeId, leaseMs: pg.leaseMs, events: runtime.events, logger: log, outboundHeaders: runtime.outboundHeaders });
      // The engine stops with the runtime's services; the store's connections close after the
      // modules stopped (the dashboard writes its last rollups there).
      runtime.addService({ stop: () => engine.stop(), ready: () => engine.writerUp });
      await engine.start();
    } else {
      const engine = new Engine({ db: runtime.db, plan, events: runtime.events, logger: log, onFatal: runtime.fatal });
      engine.start();
      runtime.addService({ stop: () => engine.stop(), ready: () => engine.writerUp });
      runtime.attachEngine(engine);
    }
    const where = store.kind === 'postgres' ? `store ${redactUrl(store.url)} (from the ${store.from === 'plan' ? 'plan' : '--store flag'})` : `data in ${opts.dataDir}`;
    console.error(`hdc run: listening on ${runtime.url} (${opts.insecureHttp ? 'plain HTTP, loopback only' : opts.clientCa ? 'HTTPS, client certificates verified' : 'HTTPS'}); ${where}`);

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        runtime.close().then(() => pgStore?.close()).then(
          () => { log.flush(); resolve(0); },
          (err) => { console.error(`hdc run: shutdown failed: ${(err as Error).message}`); log.flush(); resolve(1); },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};

export default command;
