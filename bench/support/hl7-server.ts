// The runtime as the listener benchmarks start it: a child process serving mTLS partners (one
// sender per partner, client certificate CN=<partner>), the journal in a temp dir, logs to
// /dev/null at info. The parent talks to it over IPC: {url}, then {usage} answers to 'usage'.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Partner {
  name: string;
  /** Largest body this partner may send; default 5 MB. */
  maxBodyBytes?: number;
}

export interface BenchPki {
  dir: string;
  /** PEM files per partner: <dir>/<name>.crt, .key; ca.crt; server.crt, .key. */
  files(partner: string): { cert: string; key: string; ca: string };
}

/** Writes a CA, a server certificate and one client certificate per partner into dir. */
export async function writeBenchPki(dir: string, partners: string[]): Promise<BenchPki> {
  const { createCertificateAuthority, issueCertificate } = await import('../../runtime/platform/tls/certificate-authority.ts');
  const ca = await createCertificateAuthority('bench CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'server.crt'), server.cert);
  writeFileSync(join(dir, 'server.key'), server.key);
  for (const p of partners) {
    const c = await issueCertificate(ca, { commonName: p, usage: 'client' });
    writeFileSync(join(dir, `${p}.crt`), c.cert);
    writeFileSync(join(dir, `${p}.key`), c.key);
  }
  return { dir, files: (p) => ({ cert: join(dir, `${p}.crt`), key: join(dir, `${p}.key`), ca: join(dir, 'ca.crt') }) };
}

export interface ServerUsage {
  rss: number;
  peakRss: number;
  cpuUs: number;
}

export interface BenchServer {
  process: ChildProcess;
  url: string;
  usage(): Promise<ServerUsage>;
  stop(): Promise<void>;
}

const self = new URL(import.meta.url).pathname;

export async function startBenchServer(dir: string, partners: Partner[]): Promise<BenchServer> {
  const child = fork(self, ['serve', JSON.stringify({ dir, partners })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await nextMessage<string>(child, 'url');
  return {
    process: child,
    url,
    usage: () => {
      child.send({ cmd: 'usage' });
      return nextMessage<ServerUsage>(child, 'usage');
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await exited;
    },
  };
}

export function nextMessage<T>(c: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', onMessage);
        c.off('exit', onExit);
        resolve(m[key] as T);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before sending ${key}`));
    c.on('message', onMessage);
    c.once('exit', onExit);
  });
}

async function serve(dir: string, partners: Partner[]): Promise<void> {
  const { startRuntime } = await import('../../runtime/platform/start-runtime.ts');
  const { withPlanHash } = await import('../../plan/plan-hash.ts');
  const { mapFields } = await import('../../runtime/inbound/map-fields.ts');
  const { orderKeyFor } = await import('../../runtime/inbound/order-key.ts');
  const { parseHl7Path } = await import('../../compiler/syntax/hl7-path.ts');
  const { createLogger } = await import('../../runtime/platform/log/logger.ts');
  const pino = (await import('pino')).default;
  const src = 'bench.hdc:1:1-1:2';
  const path = (t: string) => {
    const r = parseHl7Path(t);
    if ('error' in r) throw new Error(r.error);
    return r.path;
  };
  const plan = withPlanHash({
    planVersion: 1, compiler: 'bench', sources: [], auths: [], apis: [], launches: [], tests: [],
    workflows: [{ name: 'ingest', inputs: [], steps: [], src }],
    senders: partners.map((p) => ({
      name: p.name, path: `/hl7/${p.name}`, match: [{ path: path('MSH-5'), op: '==' as const, values: ['HDC'], src }],
      identity: { kind: 'client_cert' as const, subject: `CN=${p.name}` },
      accept: [{ code: 'ADT', trigger: 'A01' }, { code: 'ORU', trigger: 'R01' }], processingIds: ['P'],
      segmentBreaks: 'cr' as const, ack: { mode: 'on_receive' as const },
      ...(p.maxBodyBytes ? { maxBodyBytes: p.maxBodyBytes } : {}),
      fields: [
        { name: 'mrn', path: path('PID-3[*]'), where: { op: '==', args: [{ rel: [4, 1] }, { lit: 'GENHOSP' }] }, select: [1], type: 'string', src },
        { name: 'family', path: path('PID-5.1'), type: 'string', src },
        { name: 'birth_date', path: path('PID-7'), as: 'date', type: 'date', src },
      ],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src }],
      src,
    })),
  } as unknown as Parameters<typeof withPlanHash>[0]);
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port: 0,
    tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.crt') },
    dataDir: join(dir, 'data'), maxBodyBytes: 5 * 1024 * 1024, requestTimeoutMs: 120_000, shutdownTimeoutMs: 5000,
    logPhi: false, log: createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }) }),
    mapFields, orderKeyFor,
  });
  let peak = 0;
  const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
  const timer = setInterval(sample, 100);
  let cpu = process.cpuUsage();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'usage') return;
    sample();
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    process.send!({ usage: { rss: process.memoryUsage().rss, peakRss: peak, cpuUs: used.user + used.system } satisfies ServerUsage });
    peak = 0;
  });
  process.once('disconnect', () => {
    clearInterval(timer);
    void rt.close();
  });
  process.send!({ url: rt.url });
}

if (process.argv[2] === 'serve' && process.argv[1] === self) {
  const { dir, partners } = JSON.parse(process.argv[3]!) as { dir: string; partners: Partner[] };
  await serve(dir, partners);
}
