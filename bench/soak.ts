// npm run bench:soak -- --minutes N (default 30; fractions allowed; not part of `npm run bench`).
// Measures the runtime's peak rate (closed loop, as bench:ingest does), then sends traffic at half
// that rate for N minutes and reports, per window, the server's RSS at the window's end and the
// p99 latency; finally the growth of RSS from the first window to the last, the first and last
// p99 and the errors (non-2xx, transport errors, ACKs other than AA/CA). Windows are 5 minutes,
// or a quarter of the run when it is shorter than 20 minutes (so a short check still compares
// a first and a last window). Targets: RSS growth < 10 %, last p99 within 20 % of the first, 0 errors.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adtMessage, oruMessage } from './ingest.ts';
import { startBenchServer, writeBenchPki, type BenchPki } from './support/hl7-server.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PEAK_S = Number(process.env.BENCH_PEAK_S ?? 8);

interface Window { seconds: number; requests: number; perSec: number; p50: number; p99: number; errors: number; rssMb: number; peakRssMb: number }

async function drive(url: string, pki: BenchPki, seconds: number, prefix: string, overallRate?: number) {
  const autocannon = (await import('autocannon')).default;
  const f = pki.files('soak');
  let n = 0;
  let bad = 0;
  let sample = '';
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    headers: { 'content-type': 'application/hl7-v2; charset=utf-8' },
    tlsOptions: { cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(f.ca) },
    requests: [{
      setupRequest: (req: Record<string, unknown>) => {
        const id = `${prefix}${(n++).toString(36)}`;
        return { ...req, body: n % 2 ? adtMessage(id) : oruMessage(id) };
      },
      onResponse: (status: number, body: string) => {
        if (status !== 200 || !/\rMSA\|(AA|CA)\|/.test(body)) {
          bad++;
          sample ||= `${status} ${body.slice(0, 160)}`;
        }
      },
    }],
  } as unknown as Parameters<typeof autocannon>[0]);
  return {
    requests: result.requests.total,
    perSec: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + bad,
    sample,
  };
}

async function main() {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { minutes: { type: 'string' } } });
  const minutes = Number(values.minutes ?? 30);
  if (!(minutes > 0)) throw new Error(`--minutes: expected a positive number, got "${values.minutes}"`);
  const totalS = minutes * 60;
  const windowS = minutes >= 20 ? 300 : totalS / 4;
  const windows = Math.max(1, Math.round(totalS / windowS));
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-soak-'));
  try {
    const pki = await writeBenchPki(dir, ['soak']);
    const server = await startBenchServer(dir, [{ name: 'soak' }]);
    const url = `${server.url}/hl7/soak`;
    try {
      await drive(url, pki, 3, 'W-');
      const peak = await drive(url, pki, PEAK_S, 'P-');
      const rate = Math.max(1, Math.round(peak.perSec / 2));
      console.log(`soak: peak ${Math.round(peak.perSec)} msg/s (p99 ${peak.p99} ms); ${minutes} min at ${rate} msg/s in ${windows} windows of ${Math.round(windowS)} s, ${CONNECTIONS} connections`);
      await server.usage(); // starts the first window's peak RSS afresh
      const results: Window[] = [];
      for (let w = 0; w < windows; w++) {
        const r = await drive(url, pki, Math.round(windowS), `S${w}-`, rate);
        const u = await server.usage();
        const win: Window = {
          seconds: Math.round(windowS), requests: r.requests, perSec: Math.round(r.perSec), p50: r.p50, p99: r.p99, errors: r.errors,
          rssMb: Math.round(u.rss / 1024 / 1024), peakRssMb: Math.round(u.peakRss / 1024 / 1024),
        };
        results.push(win);
        console.log(`window ${w + 1}/${windows}: ${win.perSec} msg/s, p50 ${win.p50} ms, p99 ${win.p99} ms, RSS ${win.rssMb} MB (peak ${win.peakRssMb} MB), errors ${win.errors}${r.sample ? ` (${r.sample})` : ''}`);
      }
      const first = results[0]!;
      const last = results[results.length - 1]!;
      const out = {
        bench: 'soak',
        minutes,
        rssGrowthPct: Math.round(((last.rssMb - first.rssMb) / first.rssMb) * 1000) / 10,
        p99FirstMs: first.p99,
        p99LastMs: last.p99,
        errors: results.reduce((n, w) => n + w.errors, 0) + peak.errors,
        peakMsgPerSec: Math.round(peak.perSec),
        rateMsgPerSec: rate,
        messages: results.reduce((n, w) => n + w.requests, 0),
        windows: results,
      };
      const resultsDir = new URL('./results/', import.meta.url).pathname;
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'soak.json'), JSON.stringify(out, null, 2) + '\n');
      console.log(JSON.stringify(out));
      if (out.errors) process.exitCode = 1;
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
