// npm run bench:monitoring-overhead — the ingest benchmark's traffic (ADT^A01 and ORU^R01 1:1,
// unique control IDs, keep-alive connections) against two runtimes in their own processes: one
// without the monitoring module, one with it (per-minute rollups and the Prometheus metrics, with
// a scrape every second from the benchmark's process, as Prometheus would from its own). Plain
// HTTP on loopback, so the module's cost is not hidden behind TLS. Same run, same machine: their
// measured windows alternate over BENCH_ROUNDS rounds (ABBA order, so neither side always goes
// first); the ratio (with/without) is the median of the rounds' ratios, with their quartiles, so
// a burst of load from elsewhere on a shared machine moves one round, not the result. Target
// ≥ 0.97. Beside it, the CPU time each runtime spent per message in the same windows (all its
// threads, answering the scrapes included), which the machine's other load moves much less than
// throughput: `cpuRatio` (without/with, per round, median).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { adtMessage, oruMessage } from './support/ingest-messages.ts';

const self = new URL(import.meta.url).pathname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface ServeArgs { role: 'serve'; dir: string; monitoring: boolean }
interface LoadArgs { role: 'load'; url: string; duration: number; connections: number; prefix: string }

async function serve(a: ServeArgs): Promise<{ url: string; metricsUrl?: string }> {
  const { startRuntime } = await import('../runtime/platform/start-runtime.ts');
  const { withPlanHash } = await import('../plan/plan-hash.ts');
  const { mapFields } = await import('../runtime/inbound/map-fields.ts');
  const { orderKeyFor } = await import('../runtime/inbound/order-key.ts');
  const { parseHl7Path } = await import('../compiler/syntax/hl7-path.ts');
  const { silentLogger } = await import('../runtime/platform/log/logger.ts');
  const src = 'bench.hdc:1:1-1:2';
  const path = (t: string) => {
    const r = parseHl7Path(t);
    if ('error' in r) throw new Error(r.error);
    return r.path;
  };
  const modules = a.monitoring ? { monitoring: { metrics: { kind: 'metrics' as const, src, settings: { listen: '127.0.0.1:0' } } } } : undefined;
  const plan = withPlanHash({
    planVersion: 1, compiler: 'bench', sources: [], auths: [], apis: [], launches: [], tests: [],
    workflows: [{ name: 'ingest', inputs: [], steps: [], src }],
    senders: [{
      name: 'bench', path: '/hl7/bench', match: [{ path: path('MSH-5'), op: '==', values: ['HDC'], src }],
      identity: { kind: 'none' }, accept: [{ code: 'ADT', trigger: 'A01' }, { code: 'ORU', trigger: 'R01' }], processingIds: ['P'],
      segmentBreaks: 'cr', ack: { mode: 'on_receive' },
      fields: [
        { name: 'mrn', path: path('PID-3[*]'), where: { op: '==', args: [{ rel: [4, 1] }, { lit: 'GENHOSP' }] }, select: [1], type: 'string', src },
        { name: 'family', path: path('PID-5.1'), type: 'string', src },
        { name: 'birth_date', path: path('PID-7'), as: 'date', type: 'date', src },
      ],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src }],
      src,
    }],
    ...(modules ? { modules } : {}),
  });
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: join(a.dir, a.monitoring ? 'with' : 'without'), maxBodyBytes: 5 * 1024 * 1024,
    requestTimeoutMs: 30_000, shutdownTimeoutMs: 5000, logPhi: false, log: silentLogger(), mapFields, orderKeyFor,
  });
  // The parent reads this process's CPU time (every thread) around each measured window.
  process.on('message', (m) => m === 'cpu' && process.send!({ cpu: process.cpuUsage() }));
  process.once('disconnect', () => void rt.close());
  const module = rt.modules.get('monitoring') as { metricsUrl?: string } | undefined;
  if (a.monitoring && !module?.metricsUrl) throw new Error('the monitoring module did not start its metrics listener');
  return { url: `${rt.url}/hl7/bench`, ...(module?.metricsUrl ? { metricsUrl: module.metricsUrl } : {}) };
}

/** Scrapes /metrics every second, as Prometheus would. */
function scrapeEverySecond(metricsUrl: string): void {
  const timer = setInterval(() => void fetch(`${metricsUrl}/metrics`).then((r) => r.text()).catch(() => undefined), 1000);
  timer.unref();
}

async function load(a: LoadArgs) {
  const autocannon = (await import('autocannon')).default;
  let n = 0;
  let bad = 0;
  const result = await autocannon({
    url: a.url, method: 'POST', connections: a.connections, duration: a.duration,
    headers: { 'content-type': 'application/hl7-v2; charset=utf-8' },
    requests: [{
      setupRequest: (req: Record<string, unknown>) => {
        const id = `${a.prefix}${(n++).toString(36)}`;
        return { ...req, body: n % 2 ? adtMessage(id) : oruMessage(id) };
      },
      onResponse: (status: number, body: string) => {
        if (status !== 200 || !/\rMSA\|(AA|CA)\|/.test(body)) bad++;
      },
    }],
  } as unknown as Parameters<typeof autocannon>[0]);
  return { perSec: result.requests.total / a.duration, p99: result.latency.p99, bad: bad + result.errors + result.timeouts };
}

type LoadResult = Awaited<ReturnType<typeof load>>;

function child(args: ServeArgs | LoadArgs): ChildProcess {
  return fork(self, ['child', JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(c: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    c.on('message', (m: Record<string, unknown>) => key in m && resolve(m[key] as T));
    c.once('exit', (code) => reject(new Error(`child exited (${code}) before sending ${key}`)));
  });
}

/** The q-quantile, interpolated between the two nearest values (q = 0.5: the median). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (i - lo);
}
const median = (xs: number[]) => quantile(xs, 0.5);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The module's own work per message, in-process and without the machine's noise: the rollup cell
 * and the Prometheus children for each of N answered messages, with the once-a-second flushes.
 */
async function perMessageCost(dir: string): Promise<number> {
  const { openDatabase } = await import('../runtime/journal/open-database.ts');
  const { coreMigrations } = await import('../runtime/journal/core-migrations.ts');
  const monitoring = (await import('../modules/monitoring/service.ts')).default;
  const { Rollups } = await import('../modules/monitoring/rollups.ts');
  const { Metrics } = await import('../modules/monitoring/metrics.ts');
  const db = openDatabase(join(dir, 'micro.sqlite'), { migrations: [...coreMigrations, ...(monitoring.migrations ?? [])] });
  const { sqliteSql } = await import('../runtime/store/shared-sql.ts');
  const rollups = new Rollups(sqliteSql(db));
  const metrics = new Metrics(sqliteSql(db), ['bench']);
  const n = 500_000;
  const types = ['ADT^A01', 'ORU^R01'];
  let at = Date.now();
  // The first pass warms the JIT and the tables; the second is measured.
  let us = 0;
  for (let pass = 0; pass < 2; pass++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      at += 1;
      rollups.countMessage('bench', types[i & 1]!, 'AA', at, 3 + (i % 40));
      metrics.countMessage('bench', types[i & 1]!, 'AA', 3 + (i % 40));
      // Group commit: a batch of a few messages per journal commit under load.
      if (i % 8 === 0) metrics.observeCommit(8, 0.002);
      if (i % 3000 === 0) await rollups.flush();
    }
    await rollups.flush();
    us = ((performance.now() - t0) * 1000) / n;
  }
  db.close();
  return Math.round(us * 100) / 100;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-monitoring-'));
  const servers: ChildProcess[] = [];
  try {
    console.log(`monitoring-overhead: ${CONNECTIONS} keep-alive connections, ${WARMUP_S} s warm-up, ${ROUNDS} rounds of ${DURATION_S} s per runtime, alternating`);
    const loadBefore = loadavg()[0]!;
    const procs: Record<string, ChildProcess> = {};
    const start = async (monitoring: boolean) => {
      const c = child({ role: 'serve', dir, monitoring });
      servers.push(c);
      procs[monitoring ? 'with' : 'without'] = c;
      const { url, metricsUrl } = await next<{ url: string; metricsUrl?: string }>(c, 'served');
      if (metricsUrl) scrapeEverySecond(metricsUrl);
      return url;
    };
    const cpuOf = (side: 'with' | 'without') => {
      const c = procs[side]!;
      return new Promise<number>((resolve) => {
        const on = (m: { cpu?: NodeJS.CpuUsage }) => {
          if (!m.cpu) return;
          c.off('message', on);
          resolve(m.cpu.user + m.cpu.system);
        };
        c.on('message', on);
        c.send('cpu');
      });
    };
    const moduleUsPerMsg = await perMessageCost(dir);
    console.log(`the module's own work: ${moduleUsPerMsg} µs per message (in-process, rollups and metrics)`);
    const urls = { without: await start(false), with: await start(true) };
    const run = (url: string, duration: number, prefix: string) => next<LoadResult>(child({ role: 'load', url, duration, connections: CONNECTIONS, prefix }), 'result');
    await run(urls.without, WARMUP_S, 'Wo');
    await run(urls.with, WARMUP_S, 'Ww');
    const results: { without: LoadResult[]; with: LoadResult[] } = { without: [], with: [] };
    /** CPU µs per message, per round. */
    const cpu: { without: number[]; with: number[] } = { without: [], with: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? (['with', 'without'] as const) : (['without', 'with'] as const);
      for (const side of order) {
        const c0 = await cpuOf(side);
        const r = await run(urls[side], DURATION_S, `M${side[1]}${round}-`);
        cpu[side].push((await cpuOf(side) - c0) / (r.perSec * DURATION_S));
        results[side].push(r);
      }
      const w = results.with[round]!.perSec;
      const wo = results.without[round]!.perSec;
      console.log(`round ${round + 1}: without ${wo.toFixed(0)} msg/s, with ${w.toFixed(0)} msg/s, ratio ${(w / wo).toFixed(3)}; ` +
        `CPU ${cpu.without[round]!.toFixed(0)} vs ${cpu.with[round]!.toFixed(0)} µs/msg`);
    }
    const ratios = results.with.map((w, i) => w.perSec / results.without[i]!.perSec);
    const cpuRatios = cpu.with.map((w, i) => cpu.without[i]! / w);
    const out = {
      bench: 'monitoring-overhead',
      ratio: r3(median(ratios)),
      /** The middle half of the rounds' ratios: how much the machine's noise moved them. */
      ratioQuartiles: [r3(quantile(ratios, 0.25)), r3(quantile(ratios, 0.75))],
      roundRatios: ratios.map(r3),
      cpuRatio: r3(median(cpuRatios)),
      cpuRatioQuartiles: [r3(quantile(cpuRatios, 0.25)), r3(quantile(cpuRatios, 0.75))],
      withCpuUsPerMsg: Math.round(median(cpu.with)),
      withoutCpuUsPerMsg: Math.round(median(cpu.without)),
      moduleUsPerMsg,
      withPerSec: Math.round(median(results.with.map((r) => r.perSec))),
      withoutPerSec: Math.round(median(results.without.map((r) => r.perSec))),
      withP99Ms: median(results.with.map((r) => r.p99)),
      withoutP99Ms: median(results.without.map((r) => r.p99)),
      connections: CONNECTIONS, rounds: ROUNDS, durationS: DURATION_S,
      loadAvg: [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0]! * 10) / 10],
      failed: [...results.with, ...results.without].reduce((n, r) => n + r.bad, 0),
    };
    const resultsDir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'monitoring-overhead.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out));
    if (out.failed) process.exitCode = 1;
  } finally {
    for (const s of servers) s.disconnect();
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  const args = JSON.parse(process.argv[3]!) as ServeArgs | LoadArgs;
  if (args.role === 'load') {
    process.send!({ result: await load(args) });
    process.disconnect();
  } else {
    process.send!({ served: await serve(args) });
  }
} else if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  await main();
}
