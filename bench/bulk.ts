// npm run bench:bulk — a Bulk FHIR export of at least 1,000,000 resources (the Synthea corpus
// cloned with new ids, in ndjson files of 100,000 lines) from the local $export peer, each resource
// handed to a workflow that only counts, against the floor measured in the same run: the same
// files downloaded with the same parallelism and read with split2 + JSON.parse.
//
// `ratio` compares the export's reading with the floor, the workflows counted separately (the
// issue allows it): kick-off to the last line parsed, checked against its type and its file's
// progress committed. Handing each resource to its workflow is then measured on its own: committed
// to the durable workflow queue with its file's progress (`queuedPerSec`), and the engine executing
// the queued runs (`workflowRunsPerSec`; the engine's throughput is bench/workflow.ts's subject).
// `peakRssMb` is the product's: `hdc run` as users start it, doing the whole export with every run
// executed (productRun below); the harness's own process is reported beside it.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { loadPlanFile } from '../plan/load-plan.ts';
import { startRuntime } from '../runtime/platform/start-runtime.ts';
import { Engine } from '../runtime/workflows/engine.ts';
import { RunEvents } from '../runtime/journal/run-events.ts';
import { silentLogger } from '../runtime/platform/log/logger.ts';
import { mapFields } from '../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../runtime/inbound/order-key.ts';
import type { BulkInstance } from '../modules/bulk/service.ts';
import type { ExportRow } from '../modules/bulk/bulk-store.ts';
import { syntheaBundleFiles } from '../test/peers/synthea.ts';
import { databasePath } from '../runtime/journal/open-database.ts';

const TARGET = Number(process.env.BULK_BENCH_RESOURCES ?? 1_000_000);
const PER_FILE = 100_000;
const CONCURRENCY = 4;
/** Workflow runs executed for the engine's figure (the first 100,000 of the queue by default). */
const RUNS = Number(process.env.BULK_BENCH_RUNS ?? 100_000);

interface Served { type: string; path: string; lines: number }

/** Clones every resource of the corpus (bundles' entries, Bundles excepted) with new ids until TARGET lines; cached by size. */
async function generate(): Promise<Served[]> {
  const dir = join(tmpdir(), `hdc-bench-bulk-${TARGET}`);
  const listFile = join(dir, 'files.json');
  if (existsSync(listFile)) return JSON.parse(readFileSync(listFile, 'utf8')) as Served[];
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const byType = new Map<string, Array<[string, string]>>();
  for (const file of syntheaBundleFiles()) {
    for (const e of (JSON.parse(readFileSync(file, 'utf8')) as { entry?: Array<{ resource?: { resourceType: string; id?: string } }> }).entry ?? []) {
      const r = e.resource;
      if (!r?.id || r.resourceType === 'Bundle') continue;
      // The text around the id, so each clone is one concatenation.
      const text = JSON.stringify({ ...r, id: '@@ID@@' });
      const [before, after] = text.split('@@ID@@') as [string, string];
      (byType.get(r.resourceType) ?? byType.set(r.resourceType, []).get(r.resourceType)!).push([before, after]);
    }
  }
  const perRound = [...byType.values()].reduce((n, l) => n + l.length, 0);
  const rounds = Math.ceil(TARGET / perRound);
  const files: Served[] = [];
  for (const [type, list] of byType) {
    let n = 0;
    let out: ReturnType<typeof createWriteStream> | undefined;
    let current: Served | undefined;
    for (let k = 0; k < rounds; k++) {
      for (const [before, after] of list) {
        if (!out || current!.lines >= PER_FILE) {
          if (out) await new Promise<void>((r) => out!.end(() => r()));
          current = { type, path: join(dir, `${type}-${files.length}.ndjson`), lines: 0 };
          files.push(current);
          out = createWriteStream(current.path);
        }
        if (!out.write(`${before}c${k}-${n++}${after}\n`)) await new Promise<void>((r) => out!.once('drain', () => r()));
        current!.lines++;
      }
    }
    if (out) await new Promise<void>((r) => out!.end(() => r()));
  }
  writeFileSync(listFile, JSON.stringify(files));
  return files;
}

async function startPeer(listFile: string): Promise<{ baseUrl: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./support/bulk-peer.ts', import.meta.url).pathname, listFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the peer exited (${code})`)));
  });
  return { baseUrl, stop: () => child.kill('SIGTERM') };
}

/** The floor, in a process of its own (bench/support/bulk-floor.ts) so that its heap is not counted in hdc's memory. */
function floor(baseUrl: string, files: Served[]): Promise<{ resources: number; ms: number }> {
  const types = [...new Set(files.map((f) => f.type))].join(',');
  const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('./support/bulk-floor.ts', import.meta.url).pathname, baseUrl, types, String(CONCURRENCY)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`the floor failed (${r.status})`);
  return Promise.resolve(JSON.parse(r.stdout.trim().split('\n').pop()!) as { resources: number; ms: number });
}

/** Memory of one process from /proc: its resident set now and its peak (VmHWM), in MB. */
function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

/**
 * The product as deployed: `hdc run plan.json` started as users start it (bin/hdc.js executed, so
 * its launcher's V8 heap settings apply, running the build: no TypeScript loader, no harness), the
 * export asked for with `hdc bulk start` and followed to its end, its engine executing every
 * resource's workflow run meanwhile and after; done when no run is left queued or running.
 * The memory figure is the process's own peak resident set (VmHWM), start-up included.
 */
async function productRun(planFile: string, dataDir: string, expected: number): Promise<{ peakRssMb: number; startRssMb: number; exportMs: number; drainMs: number; runs: number }> {
  const hdc = new URL('../bin/hdc.js', import.meta.url).pathname;
  // The launcher's `#!/usr/bin/env -S node …` finds this benchmark's node first.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, HDC_DEV: '0' };
  const tsc = spawnSync(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', new URL('../tsconfig.json', import.meta.url).pathname], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('npm run build failed');
  const child = spawn(hdc, ['run', planFile, '--data', dataDir, '--insecure-http', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => line.startsWith('hdc run: listening on') && resolve());
      void exited.then((code) => reject(new Error(`hdc run exited (${code})`)));
    });
    const startRssMb = rssOf(child.pid!).rss;
    const started = performance.now();
    const cli = spawn(hdc, ['bulk', 'start', 'bench', '--data', dataDir], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const cliCode = await new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    if (cliCode !== 0) throw new Error(`hdc bulk start ended ${cliCode}`);
    const exportMs = performance.now() - started;
    const db = new Database(databasePath(dataDir), { readonly: true });
    const open = db.prepare(`SELECT count(*) AS n FROM workflow_runs WHERE status IN ('queued', 'running')`).pluck();
    const finished = db.prepare(`SELECT count(*) AS n FROM workflow_runs WHERE status = 'done'`).pluck();
    while ((open.get() as number) > 0) await new Promise((r) => setTimeout(r, 500));
    const drainMs = performance.now() - started;
    const runs = finished.get() as number;
    db.close();
    if (runs !== expected) throw new Error(`hdc run: ${runs} runs done, ${expected} expected`);
    return { peakRssMb: rssOf(child.pid!).hwm, startRssMb, exportMs, drainMs, runs };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const files = await generate();
const total = files.reduce((n, f) => n + f.lines, 0);
const types = [...new Set(files.map((f) => f.type))];
const work = mkdtempSync(join(tmpdir(), 'hdc-bench-bulk-run-'));
const listFile = join(work, 'files.json');
writeFileSync(listFile, JSON.stringify(files));
const peer = await startPeer(listFile);
try {
  // Floor first, then hdc; the files are in the page cache for both after generation.
  // The machine is shared: the floor is taken before and after hdc's exports, and the faster kept.
  let base = await floor(peer.baseUrl, files);
  console.error(`floor: ${base.resources} resources in ${(base.ms / 1000).toFixed(1)} s`);

  const source = `api ehr fhir "${peer.baseUrl}"
bulk bench from ehr {
  level system
  types ${types.join(', ')}
${types.map((t) => `  on ${t} run count`).join('\n')}
  concurrency ${CONCURRENCY}
}
bulk read_only from ehr {
  level system
  types ${types.join(', ')}
  concurrency ${CONCURRENCY}
}
workflow count {
  let counted = 1
}
`;
  // Compiled by `hdc compile` in its own process: `hdc run plan.json` never loads the compiler either.
  writeFileSync(join(work, 'bench.hdc'), source);
  const compiled = spawnSync(process.execPath, [new URL('../bin/hdc.js', import.meta.url).pathname, 'compile', join(work, 'bench.hdc'), '-o', join(work, 'plan.json')], { env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(compiled.stderr + compiled.stdout);
  const plan = loadPlanFile(join(work, 'plan.json'));
  const events = new RunEvents();
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: join(work, 'data'), maxBodyBytes: 1 << 20, requestTimeoutMs: 10_000,
    shutdownTimeoutMs: 2000, logPhi: false, log: silentLogger(), mapFields, orderKeyFor, events, moduleOptions: { bulk: { pickupMs: 50, ...(process.env.BULK_BENCH_BATCH ? { timers: { batchLines: Number(process.env.BULK_BENCH_BATCH) } } : {}) } },
  });
  const rssAtStart = process.memoryUsage().rss;
  const mb = (m: object) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round((v as number) / 1_048_576)]));
  if (process.env.BULK_BENCH_DEBUG) console.error('at start', mb(process.memoryUsage()));
  let spacesAtPeak: Array<{ space_name: string; space_size: number }> = [];
  let peakRss = rssAtStart;
  let atPeak = process.memoryUsage();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) {
      [peakRss, atPeak] = [m.rss, m];
      if (process.env.BULK_BENCH_DEBUG) spacesAtPeak = getHeapSpaceStatistics();
    }
  }, 100);
  const bulk = rt.modules.get('bulk') as BulkInstance;
  const exportOf = async (name: string): Promise<{ row: ExportRow; ms: number }> => {
    const started = performance.now();
    const id = await bulk.start(name);
    const row = await new Promise<ExportRow>((resolve) => bulk.events.on('settled', (r) => r.id === id && resolve(r)));
    if (row.status !== 'done') throw new Error(`the export ended ${row.status}: ${row.error}`);
    return { row, ms: performance.now() - started };
  };
  // Read only (downloaded, split, parsed, checked, progress committed; no workflow): the reading.
  const read = await exportOf('read_only');
  console.error(`hdc read only: ${read.row.resources} resources in ${(read.ms / 1000).toFixed(1)} s`);
  const { row, ms: exportMs } = await exportOf('bench');
  const exportPeakRss = peakRss;
  if (process.env.BULK_BENCH_DEBUG) {
    // What the export left alive: a full collection, then the heap (garbage or retained?).
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    console.error('after the export and a full GC', mb(process.memoryUsage()));
  }
  if (process.env.BULK_BENCH_DEBUG) console.error('at peak', mb(atPeak), Object.fromEntries(spacesAtPeak.map((s) => [s.space_name, Math.round(s.space_size / 1_048_576)])));
  console.error(`hdc: ${row.resources} resources handed on in ${(exportMs / 1000).toFixed(1)} s; ${row.resources} runs queued; RSS ${Math.round(rssAtStart / 1_048_576)} MB at start, ${Math.round(exportPeakRss / 1_048_576)} MB peak`);

  // The workflow runs, measured on their own: the engine executes the queued runs (RUNS of them).
  const engine = new Engine({ db: rt.db, plan, events: rt.events, logger: silentLogger(), onFatal: rt.fatal });
  let finished = 0;
  const done = new Promise<void>((resolve) => rt.events.on('finished', () => ++finished >= Math.min(RUNS, row.resources) && resolve()));
  const runsStarted = performance.now();
  engine.start();
  await done;
  const runsMs = performance.now() - runsStarted;
  clearInterval(sampler);
  await engine.stop();
  await rt.close();
  const product = await productRun(join(work, 'plan.json'), join(work, 'product-data'), row.resources);
  console.error(`hdc run (built): the export in ${(product.exportMs / 1000).toFixed(1)} s, all ${product.runs} runs done after ${(product.drainMs / 1000).toFixed(1)} s; RSS ${product.startRssMb} MB at start, ${product.peakRssMb} MB peak`);
  const again = await floor(peer.baseUrl, files);
  console.error(`floor again: ${again.resources} resources in ${(again.ms / 1000).toFixed(1)} s`);
  if (again.ms < base.ms) base = again;

  const floorPerSec = Math.round((base.resources * 1000) / base.ms);
  const resourcesPerSec = Math.round((read.row.resources * 1000) / read.ms);
  const queuedPerSec = Math.round((row.resources * 1000) / exportMs);
  const result = {
    bench: 'bulk',
    resources: row.resources,
    resourcesPerSec,
    floorPerSec,
    ratio: Number((resourcesPerSec / floorPerSec).toFixed(2)),
    peakRssMb: product.peakRssMb,
    queuedPerSec,
    queuedRatio: Number((queuedPerSec / floorPerSec).toFixed(2)),
    workflowRuns: Math.min(RUNS, row.resources),
    workflowRunsPerSec: Math.round((Math.min(RUNS, row.resources) * 1000) / runsMs),
    // `hdc run`: the export with its runs executing meanwhile, then every run done.
    productExportSec: Number((product.exportMs / 1000).toFixed(1)),
    productAllRunsDoneSec: Number((product.drainMs / 1000).toFixed(1)),
    // This benchmark's process (TypeScript loader, runtime in-process): the export's peak, then with the engine.
    harnessPeakRssMb: Math.round(exportPeakRss / 1_048_576),
    harnessPeakRssWithRunsMb: Math.round(peakRss / 1_048_576),
    files: files.length,
    megabytes: Math.round(row.bytes / 1_048_576),
  };
  if (base.resources !== total || row.resources !== total) throw new Error(`counts differ: ${total} generated, floor ${base.resources}, hdc ${row.resources}`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/bulk.json', import.meta.url), JSON.stringify(result) + '\n');
  console.log(JSON.stringify(result));
} finally {
  peer.stop();
  rmSync(work, { recursive: true, force: true });
}
