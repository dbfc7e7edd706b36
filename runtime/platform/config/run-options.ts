// Options of `hdc run`: each flag has an HDC_* environment equivalent; flags win.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface RunOptions {
  inputs: string[];
  host: string;
  port: number;
  cert?: string;
  key?: string;
  clientCa?: string;
  dataDir: string;
  insecureHttp: boolean;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  maxConnections: number;
  tlsHandshakeTimeoutMs: number;
  idleTimeoutMs: number;
  retentionDays?: number;
  logPhi: boolean;
  logLevel: string;
  /** Public base URL of the connector (SMART redirect_uris); default the listening URL. */
  publicUrl?: string;
  /** PostgreSQL URL of a shared store (several runtimes); the plan's `store` wins. */
  store?: string;
  /** Join a cluster whose runtimes run another plan (a rolling upgrade). */
  rolling: boolean;
  /** How long a claimed workflow run stays with a runtime that stopped renewing it (PostgreSQL store). */
  leaseMs: number;
}

export const DEV_CERT_DIR = '.hdc-certs';

export const RUN_USAGE = `Usage: hdc run <plan.json | file.hdc…> [options]

Starts the runtime: HL7 v2 over HTTPS (mutual TLS or Basic auth), the journal and the workflow queue.
The plan is validated, and every env()/file() value resolved, before anything listens.

Options (environment variable in brackets; flags win):
  --host ADDR             listen address, default 127.0.0.1 (use 0.0.0.0 to serve partners) [HDC_HOST]
  --port N                listen port, default 8443; 0 picks a free one [HDC_PORT]
  --cert FILE             server certificate chain, PEM [HDC_CERT]
  --key FILE              server private key, PEM [HDC_KEY]
  --client-ca FILE        CA bundle that client certificates must chain to, PEM [HDC_CLIENT_CA]
                          (the three default to the files \`hdc dev-certs\` writes to ${DEV_CERT_DIR}/
                          when they exist)
  --data DIR              data directory holding the SQLite journal, default .hdc-data [HDC_DATA]
  --insecure-http         plain HTTP, refused unless --host is a loopback address [HDC_INSECURE_HTTP=1]
  --body-limit BYTES      largest request body (k/m suffixes), default 5m; a sender's own limit
                          in the plan wins [HDC_BODY_LIMIT]
  --request-timeout MS    time allowed to receive a whole request, default 30000; later: 408
                          [HDC_REQUEST_TIMEOUT]
  --max-connections N     connections open at once, default 1000; more are dropped at accept
                          [HDC_MAX_CONNECTIONS]
  --handshake-timeout MS  time allowed for a TLS handshake, default 10000 [HDC_HANDSHAKE_TIMEOUT]
  --idle-timeout MS       a connection that sends no request this long after it opened is closed,
                          default 10000 [HDC_IDLE_TIMEOUT]
  --shutdown-timeout MS   time allowed to drain in-flight requests on SIGTERM, default 15000
                          [HDC_SHUTDOWN_TIMEOUT]
  --retention-days N      purge message content (raw HL7, workflow inputs of finished runs) older
                          than N days; metadata stays. Default: keep everything [HDC_RETENTION_DAYS]
  --log-phi               include message content and identifiers in logs (off by default)
                          [HDC_LOG_PHI=1]
  --log-level LEVEL       trace, debug, info, warn, error; default info [HDC_LOG_LEVEL]
  --public-url URL        the connector's public base URL (behind a proxy or load balancer),
                          from which SMART redirect_uris are made; default the listening URL
                          [HDC_PUBLIC_URL]
  --store URL             postgres://… : journal and workflow queue in PostgreSQL, shared by several
                          runtimes (a \`store\` in the plan wins); default SQLite in --data [HDC_STORE]
  --rolling               join runtimes that run another plan (a rolling upgrade): runs are claimed
                          only by runtimes whose plan has their workflow's definition [HDC_ROLLING=1]
  --lease MS              a runtime that stops renewing its claimed runs (killed) leaves them to the
                          others after this long, default 30000 (PostgreSQL store) [HDC_LEASE]

Endpoints: POST <sender path> (HL7 v2), GET /health (alive), GET /ready (database open, plan loaded),
/smart/<launch>/launch|start|callback|login (SMART launches, see docs/smart.md).
SIGTERM/SIGINT: stop accepting, drain in-flight requests, finish journal writes, close the database.`;

export class OptionsError extends Error {}

export function parseSize(text: string, what: string): number {
  const m = /^(\d+)\s*([kKmMgG]?)[bB]?$/.exec(text.trim());
  if (!m) throw new OptionsError(`${what}: expected a size like 1048576, 512k or 5m, got "${text}"`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function parseInteger(text: string, what: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new OptionsError(`${what}: expected an integer ≥ ${min}, got "${text}"`);
  return Number(text);
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

export function parseRunOptions(args: string[], env: Record<string, string | undefined>, cwd: string): RunOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'client-ca': { type: 'string' },
      data: { type: 'string' },
      'insecure-http': { type: 'boolean' },
      'body-limit': { type: 'string' },
      'request-timeout': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      'max-connections': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'retention-days': { type: 'string' },
      'log-phi': { type: 'boolean' },
      'log-level': { type: 'string' },
      'public-url': { type: 'string' },
      store: { type: 'string' },
      rolling: { type: 'boolean' },
      lease: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new OptionsError('expected a plan.json or .hdc files to run');
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] !== '' ? env[name] : undefined);
  const devFile = (name: string) => {
    const p = join(cwd, DEV_CERT_DIR, name);
    return existsSync(p) ? p : undefined;
  };
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(cwd, p));
  const host = pick(values.host, 'HDC_HOST') ?? '127.0.0.1';
  const insecureHttp = values['insecure-http'] ?? truthy(env.HDC_INSECURE_HTTP);
  if (insecureHttp && !isLoopback(host)) {
    throw new OptionsError(`--insecure-http is only allowed on a loopback address, not ${host}: partners' messages must travel over TLS`);
  }
  const retention = pick(values['retention-days'], 'HDC_RETENTION_DAYS');
  const publicUrl = pick(values['public-url'], 'HDC_PUBLIC_URL');
  if (publicUrl !== undefined) {
    let u: URL | undefined;
    try { u = new URL(publicUrl); } catch { /* reported below */ }
    if (!u || (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname)))) {
      throw new OptionsError(`--public-url: expected an https:// URL (http only on loopback), got "${publicUrl}"`);
    }
  }
  const store = pick(values.store, 'HDC_STORE');
  if (store !== undefined && !/^postgres(ql)?:\/\//.test(store)) throw new OptionsError('--store: expected a postgres:// URL');
  const cert = abs(pick(values.cert, 'HDC_CERT')) ?? devFile('server.crt');
  const key = abs(pick(values.key, 'HDC_KEY')) ?? devFile('server.key');
  const clientCa = abs(pick(values['client-ca'], 'HDC_CLIENT_CA')) ?? devFile('ca.crt');
  return {
    inputs: positionals.map((p) => resolve(cwd, p)),
    host,
    port: parseInteger(pick(values.port, 'HDC_PORT') ?? '8443', '--port'),
    cert,
    key,
    clientCa,
    dataDir: resolve(cwd, pick(values.data, 'HDC_DATA') ?? '.hdc-data'),
    insecureHttp,
    maxBodyBytes: parseSize(pick(values['body-limit'], 'HDC_BODY_LIMIT') ?? '5m', '--body-limit'),
    requestTimeoutMs: parseInteger(pick(values['request-timeout'], 'HDC_REQUEST_TIMEOUT') ?? '30000', '--request-timeout', 1),
    shutdownTimeoutMs: parseInteger(pick(values['shutdown-timeout'], 'HDC_SHUTDOWN_TIMEOUT') ?? '15000', '--shutdown-timeout'),
    maxConnections: parseInteger(pick(values['max-connections'], 'HDC_MAX_CONNECTIONS') ?? '1000', '--max-connections', 1),
    tlsHandshakeTimeoutMs: parseInteger(pick(values['handshake-timeout'], 'HDC_HANDSHAKE_TIMEOUT') ?? '10000', '--handshake-timeout', 1),
    idleTimeoutMs: parseInteger(pick(values['idle-timeout'], 'HDC_IDLE_TIMEOUT') ?? '10000', '--idle-timeout', 1),
    retentionDays: retention === undefined ? undefined : parseInteger(retention, '--retention-days', 1),
    logPhi: values['log-phi'] ?? truthy(env.HDC_LOG_PHI),
    logLevel: pick(values['log-level'], 'HDC_LOG_LEVEL') ?? 'info',
    ...(publicUrl !== undefined ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
    ...(store !== undefined ? { store } : {}),
    rolling: values.rolling ?? truthy(env.HDC_ROLLING),
    leaseMs: parseInteger(pick(values.lease, 'HDC_LEASE') ?? '30000', '--lease', 1000),
  };
}
