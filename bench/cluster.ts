// npm run bench:cluster — the ingest benchmark's traffic (ADT^A01 and ORU^R01 1:1, unique control
// IDs, keep-alive connections, every answer checked for AA) against one runtime on SQLite (the
// baseline, same run) and 1, 2 and 3 `hdc run` processes on one PostgreSQL database, each runtime
// also executing the queued workflow runs. Then failover: a runtime holding runs is killed with
// SIGKILL and the time until the others finished its runs is measured (the lease, default 30 s).
//
// After each configuration the queue drains and two invariants are checked: every acknowledged
// control ID is journaled (lostAcked) and no run finished twice (duplicateRuns). PostgreSQL's share
// of the CPU during the single-runtime window is read from /proc (server processes against runtime).
//
// Plain HTTP on loopback for every configuration (TLS cost is the ingest benchmark's subject).
// BENCH_DURATION (s, default 8), BENCH_CONNECTIONS (default 32), BENCH_LEASE (ms, default 30000),
// BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres: a database is created per run),
// BENCH_ONLY=pg1 (SQLite and one PostgreSQL runtime only: no pg2, pg3 or failover, for iterating).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Database from 'better-sqlite3';
import { adtMessage, oruMessage } from './ingest.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LEASE_MS = Number(process.env.BENCH_LEASE ?? 30_000);
const ADMIN_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_RUNTIMES = process.env.BENCH_ONLY === 'pg1' ? [1] : [1, 2, 3];
const repo = new URL('../', import.meta.url).pathname;

interface Runtime { child: ChildProcess; url: string; exited: Promise<void> }

function startRuntime(args: string[]): Promise<Runtime> {
  const child = spawn(process.execPath, [join(repo, 'bin/hdc.js'), 'run', ...args], {
    cwd: repo, env: { ...process.env, HDC_DEV: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hdc run did not start:\n${lines.join('\n')}`)), 60_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      const m = /^hdc run: listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, exited });
      }
    });
    void exited.then(() => reject(new Error(`hdc run exited:\n${lines.join('\n')}`)));
  });
}

async function stopAll(rts: Runtime[]): Promise<void> {
  for (const r of rts) r.child.kill('SIGTERM');
  await Promise.all(rts.map((r) => r.exited));
}

/** Load split over the runtimes (a load balancer's round robin); acked control IDs collected. */
async function load(urls: string[], seconds: number, prefix: string, acked?: Set<string>): Promise<{ perSec: number; bad: number }> {
  const autocannon = (await import('autocannon')).default;
  let bad = 0;
  const per = Math.max(1, Math.floor(CONNECTIONS / urls.length));
  const results = await Promise.all(urls.map((url, u) => {
    let n = 0;
    return autocannon({
      url: url + '/hl7/bench', method: 'POST', connections: per, duration: seconds,
      headers: { 'content-type': 'application/hl7-v2; charset=utf-8' },
      requests: [{
        setupRequest: (req: Record<string, unknown>) => {
          const id = `${prefix}${u}-${(n++).toString(36)}`;
          return { ...req, body: n % 2 ? adtMessage(id) : oruMessage(id) };
        },
        onResponse: (status: number, body: string) => {
          const m = /\rMSA\|(AA|CA)\|([^|\r]*)/.exec(body);
          if (status !== 200 || !m) bad++;
          else acked?.add(m[2]!);
        },
      }],
    } as unknown as Parameters<typeof autocannon>[0]);
  }));
  const total = results.reduce((s, r) => s + r.requests.total, 0);
  return { perSec: total / seconds, bad: bad + results.reduce((s, r) => s + r.errors + r.timeouts, 0) };
}

/** CPU ticks (user + system, 1/100 s) of each process `match` selects, by pid. */
function cpuTicks(match: (pid: number, comm: string) => boolean): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(Number(e), comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(e), Number(f[11]) + Number(f[12]));
    } catch {
      // the process ended
    }
  }
  return ticks;
}

/** Ticks used between two snapshots by the processes of `after` (a process new since `before` counts whole). */
function ticksUsed(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, t] of after) used += t - (before.get(pid) ?? 0);
  return used;
}

/**
 * The PostgreSQL processes serving the benchmark's database and the server's own background
 * processes (WAL writer, checkpointer): other databases' sessions on a shared machine stay out.
 */
async function postgresPids(pool: pg.Pool): Promise<Set<number>> {
  const { rows } = await pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE (datname = current_database() OR datname IS NULL) AND pid <> pg_backend_pid()');
  return new Set(rows.map((r) => r.pid));
}

function plan(sinkUrl: string, pidMrn: unknown): object {
  const src = 'bench.hdc:1:1-1:2';
  return {
    planVersion: 1, compiler: 'bench', hash: '', sources: [], auths: [], launches: [], tests: [],
    apis: [{ name: 'sink', kind: 'rest', baseUrl: sinkUrl, timeoutMs: 30_000, retry: { attempts: 5, backoffMs: 100 }, src }],
    workflows: [
      { name: 'ingest', inputs: [], steps: [], src },
      { name: 'slow', inputs: [], src, steps: [{ id: 'call', kind: 'rest', api: 'sink', method: 'POST', urlPath: { lit: '/slow' }, body: { lit: 'x' }, src }] },
    ],
    senders: ['bench', 'slow'].map((name) => ({
      name, path: `/hl7/${name}`, match: [], identity: { kind: 'none' },
      accept: [{ code: 'ADT', trigger: 'A01' }, { code: 'ORU', trigger: 'R01' }], segmentBreaks: 'cr', ack: { mode: 'on_receive' },
      fields: [{ name: 'mrn', path: pidMrn, type: 'string', src }],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: name === 'bench' ? 'ingest' : 'slow', src }],
      src,
    })),
  };
}

async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hdc_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Acked IDs missing from the journal and runs finished more than once, once the queue drained. */
async function checkPostgres(pool: pg.Pool, acked: Set<string>): Promise<{ lost: number; duplicates: number; drained: boolean }> {
  const drained = await until(async () => (await pool.query(`SELECT 1 FROM workflow_runs WHERE status <> 'done' LIMIT 1`)).rowCount === 0, 180_000);
  const ids = new Set((await pool.query<{ control_id: string }>('SELECT control_id FROM messages')).rows.map((r) => r.control_id));
  const dup = (await pool.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM (SELECT run_id FROM run_attempts WHERE status = 'done' GROUP BY run_id HAVING COUNT(*) > 1) d`)).rows[0]!.n;
  return { lost: [...acked].filter((id) => !ids.has(id)).length, duplicates: dup, drained };
}

/** CPU microseconds per message over the measured window. */
const usPerMessage = (ticks: number, perSec: number) => Math.round((ticks * 10_000) / Math.max(1, perSec * DURATION_S));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-cluster-'));
  const slowCalls: number[] = [];
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      slowCalls.push(Date.now());
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 300);
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const { withPlanHash } = await import('../plan/plan-hash.ts');
  const { parseHl7Path } = await import('../compiler/syntax/hl7-path.ts');
  const mrn = parseHl7Path('PID-3.1');
  if ('error' in mrn) throw new Error(mrn.error);
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(withPlanHash(plan(`http://127.0.0.1:${(sink.address() as AddressInfo).port}`, mrn.path) as never)));
  const args = (i: number, store?: string) => [planFile, '--insecure-http', '--port', '0', '--data', join(dir, `data-${i}`), '--log-level', 'error',
    ...(store ? ['--store', store, '--lease', String(LEASE_MS)] : [])];
  console.log(`cluster: ${CONNECTIONS} keep-alive connections split over the runtimes, ${WARMUP_S} s warm-up, ${DURATION_S} s measured; lease ${LEASE_MS} ms`);

  const out: Record<string, number | string> = { bench: 'cluster' };
  let lostAcked = 0;
  let duplicateRuns = 0;
  try {
    // SQLite, one runtime: the baseline.
    {
      const rt = await startRuntime(args(0));
      const acked = new Set<string>();
      await load([rt.url], WARMUP_S, 'sw', acked);
      const before = cpuTicks((pid) => pid === rt.child.pid);
      const r = await load([rt.url], DURATION_S, 's', acked);
      out.sqliteRuntimeUsPerMsg = usPerMessage(ticksUsed(before, cpuTicks((pid) => pid === rt.child.pid)), r.perSec);
      await new Promise((res) => setTimeout(res, 2000));
      await stopAll([rt]);
      const db = new Database(join(dir, 'data-0', 'hdc.sqlite'), { readonly: true });
      const ids = new Set((db.prepare('SELECT control_id FROM messages').pluck().all() as string[]));
      db.close();
      lostAcked += [...acked].filter((id) => !ids.has(id)).length;
      out.sqlitePerSec = Math.round(r.perSec);
      console.log(`sqlite, 1 runtime: ${r.perSec.toFixed(0)} msg/s (bad ${r.bad})`);
    }
    for (const n of PG_RUNTIMES) {
      const db = await createDatabase();
      const pool = new pg.Pool({ connectionString: db.url, max: 2 });
      try {
        const rts: Runtime[] = [];
        for (let i = 0; i < n; i++) rts.push(await startRuntime(args(10 * n + i, db.url)));
        const urls = rts.map((r) => r.url);
        const acked = new Set<string>();
        await load(urls, WARMUP_S, `p${n}w`, acked);
        const runtimePids = new Set(rts.map((r) => r.child.pid!));
        const pgPids = await postgresPids(pool);
        const pgBefore = cpuTicks((pid) => pgPids.has(pid));
        const rtBefore = cpuTicks((pid) => runtimePids.has(pid));
        const r = await load(urls, DURATION_S, `p${n}-`, acked);
        for (const pid of await postgresPids(pool)) pgPids.add(pid);
        const pgUsed = ticksUsed(pgBefore, cpuTicks((pid) => pgPids.has(pid)));
        const rtUsed = ticksUsed(rtBefore, cpuTicks((pid) => runtimePids.has(pid)));
        out[`pg${n}PerSec`] = Math.round(r.perSec);
        if (n === 1) {
          out.pgCpuShare = Math.round((pgUsed / Math.max(1, pgUsed + rtUsed)) * 100) / 100;
          out.pg1PostgresUsPerMsg = usPerMessage(pgUsed, r.perSec);
          out.pg1RuntimeUsPerMsg = usPerMessage(rtUsed, r.perSec);
        }
        console.log(`postgres, ${n} runtime${n > 1 ? 's' : ''}: ${r.perSec.toFixed(0)} msg/s (bad ${r.bad}); CPU: PostgreSQL ${pgUsed} ticks, runtimes ${rtUsed} ticks`);

        if (n === 3) {
          // Failover: slow runs posted to the victim, which is killed while it holds some.
          const victim = rts[2]!;
          const slowAcked = new Set<string>();
          for (let i = 0; i < 30; i++) {
            const { request } = await import('node:http');
            await new Promise<void>((resolve) => {
              const body = adtMessage(`F-${i}`);
              const req = request(victim.url + '/hl7/slow', { method: 'POST', headers: { 'content-type': 'application/hl7-v2', 'content-length': Buffer.byteLength(body) } }, (res) => {
                let t = '';
                res.on('data', (d) => (t += d));
                res.on('end', () => { if (/MSA\|AA/.test(t)) slowAcked.add(`F-${i}`); resolve(); });
              });
              req.on('error', () => resolve());
              req.end(body);
            });
          }
          for (const id of slowAcked) acked.add(id);
          await until(async () => (await pool.query(`SELECT 1 FROM workflow_runs WHERE status = 'running' AND workflow = 'slow' AND claimed_by LIKE $1`, [`%-${victim.child.pid}-%`])).rowCount! > 0, 10_000);
          // Only the slow runs: the victim's ingest runs may finish between this query and the kill.
          const held = (await pool.query<{ id: number }>(`SELECT id FROM workflow_runs WHERE status = 'running' AND workflow = 'slow' AND claimed_by LIKE $1`, [`%-${victim.child.pid}-%`])).rows.map((x) => x.id);
          const killedAt = Date.now();
          victim.child.kill('SIGKILL');
          await until(async () => (await pool.query(`SELECT 1 FROM workflow_runs WHERE id = ANY($1::bigint[]) AND status <> 'done'`, [held])).rowCount === 0, 180_000);
          out.failoverSeconds = Math.round((Date.now() - killedAt) / 100) / 10;
          console.log(`failover: ${held.length} runs held by the killed runtime done by the others ${out.failoverSeconds} s after SIGKILL (lease ${LEASE_MS / 1000} s)`);
        }
        const c = await checkPostgres(pool, acked);
        if (!c.drained) throw new Error(`postgres ×${n}: the queue did not drain`);
        lostAcked += c.lost;
        duplicateRuns += c.duplicates;
        await stopAll(rts.filter((r) => r.child.exitCode === null && r.child.signalCode === null));
      } finally {
        await pool.end();
        await db.drop();
      }
    }
  } finally {
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  out.pg1Ratio = Math.round(((out.pg1PerSec as number) / (out.sqlitePerSec as number)) * 100) / 100;
  out.lostAcked = lostAcked;
  out.duplicateRuns = duplicateRuns;
  out.connections = CONNECTIONS;
  out.durationS = DURATION_S;
  out.leaseMs = LEASE_MS;
  const ordered = {
    bench: 'cluster', sqlitePerSec: out.sqlitePerSec, pg1PerSec: out.pg1PerSec, pg2PerSec: out.pg2PerSec, pg3PerSec: out.pg3PerSec,
    failoverSeconds: out.failoverSeconds, lostAcked, duplicateRuns, pg1Ratio: out.pg1Ratio, pgCpuShare: out.pgCpuShare,
    sqliteRuntimeUsPerMsg: out.sqliteRuntimeUsPerMsg, pg1RuntimeUsPerMsg: out.pg1RuntimeUsPerMsg, pg1PostgresUsPerMsg: out.pg1PostgresUsPerMsg,
    connections: CONNECTIONS, durationS: DURATION_S, leaseMs: LEASE_MS,
  };
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'cluster.json'), JSON.stringify(ordered, null, 2) + '\n');
  console.log(JSON.stringify(ordered));
  if (lostAcked || duplicateRuns) process.exitCode = 1;
}

await main();
