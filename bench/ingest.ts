// npm run bench:ingest — HL7 v2 over HTTPS with mutual TLS, end to end: parse, match, map, group-
// committed durable journal (synchronous=FULL), ACK. Against the floor: a bare Koa HTTPS server
// (same TLS and client-certificate verification) that reads the body and returns a fixed ACK.
//
// Each server runs in its own process; autocannon runs in a third, so the load generator shares
// neither event loop. Keep-alive connections, unique control IDs, a 1:1 mix of ADT^A01 (~1.5 KB)
// and ORU^R01 (~5 KB, 20 OBX). Every response is checked (HTTP 200 and AA). Same run, same machine:
// both servers stay up and their measured windows alternate over BENCH_ROUNDS rounds; throughput
// and latency are medians, the ratio the median of the rounds' ratios, RSS the highest peak.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const self = new URL(import.meta.url).pathname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 6);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
// BENCH_DATA_DIR puts the journal elsewhere, e.g. on tmpfs to tell disk latency from CPU cost.
// BENCH_JOURNAL_THREAD=inline commits on the event loop instead of the worker thread.

import { adtMessage, oruMessage } from './support/ingest-messages.ts';

export { adtMessage, oruMessage };

// ---------------------------------------------------------------------------------------------
// Child roles
let journalStats: { batches: number; entries: number } | undefined;
interface ServeArgs { role: 'serve-hdc' | 'serve-floor'; dir: string }
interface LoadArgs { role: 'load'; url: string; dir: string; duration: number; connections: number; prefix: string }

async function serveHdc(dir: string): Promise<string> {
  const { startRuntime } = await import('../runtime/platform/start-runtime.ts');
  const { withPlanHash } = await import('../plan/plan-hash.ts');
  const { mapFields } = await import('../runtime/inbound/map-fields.ts');
  const { orderKeyFor } = await import('../runtime/inbound/order-key.ts');
  const { parseHl7Path } = await import('../compiler/syntax/hl7-path.ts');
  const { createLogger } = await import('../runtime/platform/log/logger.ts');
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
    senders: [{
      name: 'bench', path: '/hl7/bench', match: [{ path: path('MSH-5'), op: '==', values: ['HDC'], src }],
      identity: { kind: 'client_cert', subject: 'CN=bench-partner' },
      accept: [{ code: 'ADT', trigger: 'A01' }, { code: 'ORU', trigger: 'R01' }], processingIds: ['P'],
      segmentBreaks: 'cr', ack: { mode: 'on_receive' },
      fields: [
        { name: 'mrn', path: path('PID-3[*]'), where: { op: '==', args: [{ rel: [4, 1] }, { lit: 'GENHOSP' }] }, select: [1], type: 'string', src },
        { name: 'family', path: path('PID-5.1'), type: 'string', src },
        { name: 'given', path: path('PID-5.2'), type: 'string', src },
        { name: 'birth_date', path: path('PID-7'), as: 'date', type: 'date', src },
        { name: 'results', each: 'OBX', type: 'records', src, fields: [
          { name: 'code', path: path('OBX-3.1'), type: 'string', src },
          { name: 'value', path: path('OBX-5'), type: 'string', src },
          { name: 'unit', path: path('OBX-6.1'), type: 'string', src },
        ] },
      ],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src }],
      src,
    }],
  });
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port: 0,
    tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.crt') },
    dataDir: process.env.BENCH_DATA_DIR ?? join(dir, 'data'), maxBodyBytes: 5 * 1024 * 1024, requestTimeoutMs: 30_000, shutdownTimeoutMs: 5000,
    logPhi: false, log: createLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }) }),
    mapFields, orderKeyFor,
    ...(process.env.BENCH_JOURNAL_THREAD ? { journalThread: process.env.BENCH_JOURNAL_THREAD as 'worker' | 'inline' } : {}),
  });
  process.once('disconnect', () => void rt.close());
  journalStats = rt.journal.stats;
  return rt.url + '/hl7/bench';
}

async function serveFloor(dir: string): Promise<string> {
  const Koa = (await import('koa')).default;
  const { createServer } = await import('node:https');
  const ack = Buffer.from('MSH|^~\\&|HDC|HDCFAC|LABSYS|REFLAB|20240301091500||ACK^R01^ACK|ACK1|P|2.5.1\rMSA|CA|X\r');
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    ctx.set('Content-Type', 'application/hl7-v2; charset=utf-8');
    ctx.body = ack;
  });
  const server = createServer({
    cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')), ca: readFileSync(join(dir, 'ca.crt')),
    requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2',
  }, app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.once('disconnect', () => server.close());
  return `https://127.0.0.1:${(server.address() as { port: number }).port}/hl7/bench`;
}

async function load(a: LoadArgs) {
  const autocannon = (await import('autocannon')).default;
  let n = 0;
  let bad = 0;
  let badSample = '';
  const result = await autocannon({
    url: a.url,
    method: 'POST',
    connections: a.connections,
    duration: a.duration,
    headers: { 'content-type': 'application/hl7-v2; charset=utf-8' },
    tlsOptions: { cert: readFileSync(join(a.dir, 'client.crt')), key: readFileSync(join(a.dir, 'client.key')), ca: readFileSync(join(a.dir, 'ca.crt')) },
    requests: [{
      setupRequest: (req: Record<string, unknown>) => {
        const id = `${a.prefix}${(n++).toString(36)}`;
        return { ...req, body: n % 2 ? adtMessage(id) : oruMessage(id) };
      },
      onResponse: (status: number, body: string) => {
        if (status !== 200 || !/\rMSA\|(AA|CA)\|/.test(body)) {
          bad++;
          badSample ||= `${status} ${body.slice(0, 200)}`;
        }
      },
    }],
  } as unknown as Parameters<typeof autocannon>[0]);
  return {
    requests: result.requests.total,
    perSec: result.requests.total / a.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bad,
    badSample,
  };
}

type LoadResult = Awaited<ReturnType<typeof load>>;

if (process.argv[2] === 'child') {
  const args = JSON.parse(process.argv[3]!) as ServeArgs | LoadArgs;
  if (args.role === 'load') {
    process.send!({ result: await load(args) });
    process.disconnect();
  } else {
    const url = args.role === 'serve-hdc' ? await serveHdc(args.dir) : await serveFloor(args.dir);
    // Peak RSS, process CPU (all threads) and the main thread's CPU over the measured window. The
    // main thread's share comes from /proc (Linux; 10 ms ticks): unlike event-loop busy time it
    // does not count the time the thread waited for a core.
    const { performance } = await import('node:perf_hooks');
    const mainThreadUs = (): number | null => {
      try {
        const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
      } catch {
        return null;
      }
    };
    let main = mainThreadUs();
    let peak = 0;
    let cpu = process.cpuUsage();
    let elu = performance.eventLoopUtilization();
    let base = { ...(journalStats ?? { batches: 0, entries: 0 }) };
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
    const timer = setInterval(sample, 100);
    process.on('message', (m: { cmd: string }) => {
      if (m.cmd === 'reset') {
        peak = 0;
        cpu = process.cpuUsage();
        elu = performance.eventLoopUtilization();
        main = mainThreadUs();
        base = { ...(journalStats ?? { batches: 0, entries: 0 }) };
      }
      if (m.cmd === 'rss') {
        sample();
        const used = process.cpuUsage(cpu);
        const now = mainThreadUs();
        const loop = now !== null && main !== null ? now - main : performance.eventLoopUtilization(elu).active * 1000;
        const batches = journalStats ? journalStats.batches - base.batches : 0;
        const entries = journalStats ? journalStats.entries - base.entries : 0;
        process.send!({ rss: { peak, cpuUs: used.user + used.system, loopUs: loop, batches, entries } });
      }
    });
    process.once('disconnect', () => clearInterval(timer));
    process.send!({ url });
  }
} else if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  await main();
}

function child(args: ServeArgs | LoadArgs): ChildProcess {
  // BENCH_PROFILE=DIR writes a CPU profile of the hdc server there (for tuning).
  const profile = args.role === 'serve-hdc' && process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  return fork(self, ['child', JSON.stringify(args)], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(c: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', onMessage);
        resolve(m[key] as T);
      }
    };
    c.on('message', onMessage);
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before sending ${key}`)));
  });
}

interface Usage { peak: number; cpuUs: number; loopUs: number; batches: number; entries: number }
interface Window extends LoadResult { usage: Usage }
interface Measured extends LoadResult { rssMb: number; cpuUsPerReq: number; loopUsPerReq: number; perCommit: number }

interface Server { process: ChildProcess; url: string; role: ServeArgs['role'] }

async function startServer(role: ServeArgs['role'], dir: string): Promise<Server> {
  const server = child({ role, dir });
  return { process: server, url: await next<string>(server, 'url'), role };
}

async function stopServer(s: Server): Promise<void> {
  s.process.disconnect();
  await new Promise((res) => s.process.once('exit', res));
}

function runLoad(s: Server, dir: string, duration: number, prefix: string): Promise<LoadResult> {
  const loader = child({ role: 'load', url: s.url, dir, duration, connections: CONNECTIONS, prefix });
  return next<LoadResult>(loader, 'result');
}

/** One measured window: the server's counters are reset before the load and read after it. */
async function measureWindow(s: Server, dir: string, prefix: string): Promise<Window> {
  s.process.send({ cmd: 'reset' });
  const r = await runLoad(s, dir, DURATION_S, prefix);
  s.process.send({ cmd: 'rss' });
  return { ...r, usage: await next<Usage>(s.process, 'rss') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Medians of throughput and latency over the windows; RSS is the highest peak; CPU is total over total. */
function summarise(ws: Window[]): Measured {
  const requests = ws.reduce((n, w) => n + w.requests, 0);
  const sum = (f: (w: Window) => number) => ws.reduce((n, w) => n + f(w), 0);
  const batches = sum((w) => w.usage.batches);
  return {
    requests,
    perSec: median(ws.map((w) => w.perSec)),
    p50: median(ws.map((w) => w.p50)),
    p99: median(ws.map((w) => w.p99)),
    non2xx: sum((w) => w.non2xx),
    errors: sum((w) => w.errors),
    bad: sum((w) => w.bad),
    badSample: ws.find((w) => w.badSample)?.badSample ?? '',
    rssMb: Math.round(Math.max(...ws.map((w) => w.usage.peak)) / 1024 / 1024),
    cpuUsPerReq: Math.round(sum((w) => w.usage.cpuUs) / Math.max(1, requests)),
    loopUsPerReq: Math.round(sum((w) => w.usage.loopUs) / Math.max(1, requests)),
    perCommit: batches ? Math.round((sum((w) => w.usage.entries) / batches) * 10) / 10 : 0,
  };
}

async function main() {
  const { createCertificateAuthority, issueCertificate } = await import('../runtime/platform/tls/certificate-authority.ts');
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-ingest-'));
  try {
    const ca = await createCertificateAuthority('bench CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
    const client = await issueCertificate(ca, { commonName: 'bench-partner', usage: 'client' });
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'server.crt'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key);
    writeFileSync(join(dir, 'client.crt'), client.cert);
    writeFileSync(join(dir, 'client.key'), client.key);
    console.log(`ingest: ${CONNECTIONS} keep-alive mTLS connections, ${WARMUP_S} s warm-up, then ${ROUNDS} rounds of ${DURATION_S} s per server, alternating; ADT ${Buffer.byteLength(adtMessage('X'))} B, ORU ${Buffer.byteLength(oruMessage('X'))} B`);
    // Both servers stay up; their measured windows alternate (floor first in odd rounds, hdc first
    // in even ones), so a change in the machine's load affects both sides of each round's ratio.
    const servers = { floor: await startServer('serve-floor', dir), hdc: await startServer('serve-hdc', dir) };
    const windows: { floor: Window[]; hdc: Window[] } = { floor: [], hdc: [] };
    try {
      await runLoad(servers.floor, dir, WARMUP_S, 'Wf');
      await runLoad(servers.hdc, dir, WARMUP_S, 'Wh');
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? (['hdc', 'floor'] as const) : (['floor', 'hdc'] as const);
        for (const side of order) windows[side].push(await measureWindow(servers[side], dir, `M${side[0]}${round}-`));
        const f = windows.floor[round]!;
        const h = windows.hdc[round]!;
        console.log(`round ${round + 1}: floor ${f.perSec.toFixed(0)} req/s, hdc ${h.perSec.toFixed(0)} msg/s, ratio ${(h.perSec / f.perSec).toFixed(2)}`);
      }
    } finally {
      await Promise.all([stopServer(servers.floor), stopServer(servers.hdc)]);
    }
    const floor = summarise(windows.floor);
    const hdc = summarise(windows.hdc);
    const ratios = windows.hdc.map((h, i) => h.perSec / windows.floor[i]!.perSec);
    console.log(`floor (bare Koa HTTPS, fixed ACK): ${floor.perSec.toFixed(0)} req/s  p50 ${floor.p50} ms  p99 ${floor.p99} ms  RSS ${floor.rssMb} MB  CPU ${floor.cpuUsPerReq} µs/req (main thread ${floor.loopUsPerReq})  bad ${floor.bad + floor.errors}`);
    console.log(`hdc  (parse, match, map, journal):  ${hdc.perSec.toFixed(0)} msg/s  p50 ${hdc.p50} ms  p99 ${hdc.p99} ms  RSS ${hdc.rssMb} MB  CPU ${hdc.cpuUsPerReq} µs/msg (main thread ${hdc.loopUsPerReq})  ${hdc.perCommit} msg/commit  bad ${hdc.bad + hdc.errors}${hdc.badSample ? ` (${hdc.badSample})` : ''}`);
    const out = {
      bench: 'ingest',
      msgPerSec: Math.round(hdc.perSec),
      floorPerSec: Math.round(floor.perSec),
      // The median of the rounds' ratios (each from adjacent windows).
      ratio: Math.round(median(ratios) * 100) / 100,
      roundRatios: ratios.map((r) => Math.round(r * 100) / 100),
      p50Ms: hdc.p50,
      p99Ms: hdc.p99,
      rssMb: hdc.rssMb,
      floorP50Ms: floor.p50,
      floorP99Ms: floor.p99,
      floorRssMb: floor.rssMb,
      cpuUsPerMsg: hdc.cpuUsPerReq,
      mainThreadUsPerMsg: hdc.loopUsPerReq,
      floorCpuUsPerReq: floor.cpuUsPerReq,
      msgPerCommit: hdc.perCommit,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      durationS: DURATION_S,
      failed: hdc.bad + hdc.errors,
    };
    const resultsDir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'ingest.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out));
    if (out.failed) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
