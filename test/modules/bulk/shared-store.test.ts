// Bulk FHIR on the PostgreSQL store: two `hdc run` processes share one database. An export asked
// for with `hdc bulk start --store` runs on exactly one of them (the holder of its lease), its
// resources are queued once in the shared queue and run once by either runtime's engine. Killed
// with SIGKILL mid-download, the runtime running it leaves it to the other once its lease ran out,
// which continues from the committed progress: no resource queued twice, none missing, counts
// equal to the server's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../runtime/store/pg-test-db.ts';
import { skipBecause } from '../../harness/skip.ts';
import { startChild, repoRoot, type ChildRuntime } from '../../runtime/inbound/child-runtime.ts';
import { RECORDING_WORKFLOWS, startBulkPeer, type BulkPeer } from './bulk-harness.ts';
import type { BulkSwitches } from '../../peers/bulk-export-server.ts';
import type { ExportRow, FileRow } from '../../../modules/bulk/bulk-store.ts';

const LEASE_MS = 3000;
let db: TestDatabase | null = null;

test.before(async () => {
  db = await createTestDatabase('bulk_shared');
});

test.after(async () => {
  await db?.drop();
});

/** Resolves once `ready()` gives a value: checked on each line the peer serves, and every 100 ms meanwhile. */
function until<T>(ready: () => Promise<T | undefined>, peer: BulkPeer, what: string, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let checking = false;
    let done = false;
    const check = () => {
      if (checking || done) return;
      checking = true;
      ready().then((v) => {
        checking = false;
        if (v === undefined || done) return;
        done = true;
        cleanup();
        resolve(v);
      }, () => {
        checking = false; // the tables are being created by a runtime
      });
    };
    const timer = setInterval(check, 100);
    const deadline = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const cleanup = () => { clearInterval(timer); clearTimeout(deadline); peer.server.events.off('line-served', check); };
    peer.server.events.on('line-served', check);
    check();
  });
}

interface Cluster {
  peer: BulkPeer;
  pool: pg.Pool;
  children: ChildRuntime[];
  /** `hdc bulk …` against the store, as a process of its own (the peer keeps answering meanwhile). */
  hdc(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

async function startCluster(switches: BulkSwitches): Promise<Cluster> {
  const peer = await startBulkPeer(switches);
  const project = join(peer.dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'bulk.hdc'), `${peer.declarations}
bulk nightly from ehr {
  level system
  types Patient, Encounter, Condition
  on Patient run take
  on Encounter run take
  on Condition run take
  concurrency 2
}
${RECORDING_WORKFLOWS}`);
  const args = (i: number) => [join(project, 'bulk.hdc'), '--store', db!.url, '--lease', String(LEASE_MS), '--data', join(peer.dir, `data-${i}`), '--insecure-http', '--port', '0', '--log-level', 'warn'];
  // Started together: the shared tables are created once whichever comes first.
  const children = await Promise.all([0, 1].map((i) => startChild(args(i))));
  const pool = new pg.Pool({ connectionString: db!.url, max: 2 });
  pool.on('error', () => {});
  return {
    peer, pool, children,
    hdc: (...a) => new Promise((resolve) => {
      execFile(process.execPath, [repoRoot + 'bin/hdc.js', 'bulk', ...a, '--store', db!.url], { env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' }, (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    }),
    async close() {
      for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.exited));
      await pool.end();
      await peer.close();
    },
  };
}

const exportOf = async (pool: pg.Pool, id: string) => (await pool.query<ExportRow>('SELECT * FROM bulk_exports WHERE id = $1', [id])).rows[0];
const filesOf = async (pool: pg.Pool, id: string) => (await pool.query<FileRow>('SELECT * FROM bulk_files WHERE export_id = $1 ORDER BY idx', [id])).rows;

/** Waits for every queued run to finish, then checks each line was queued once, run once, and counts equal the server's. */
async function checkExactlyOnce(c: Cluster, id: string): Promise<void> {
  const { pool, peer } = c;
  const source = (await exportOf(pool, id))!.source_id;
  await until(async () => {
    const left = (await pool.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM workflow_runs WHERE message_id = $1 AND status <> 'done'", [source])).rows[0]!.n;
    return left === 0 ? true : undefined;
  }, peer, 'the runs to finish');
  const counts = peer.server.counts([...peer.server.jobs.keys()][0]!);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const runs = (await pool.query<{ runs: number; lines: number }>(
    "SELECT COUNT(*)::int AS runs, COUNT(DISTINCT (input::json -> 'message' ->> 'controlId'))::int AS lines FROM workflow_runs WHERE message_id = $1", [source])).rows[0]!;
  assert.is(runs.lines, total, 'every line queued');
  assert.is(runs.runs, total, 'no line queued twice');
  const taken = (await pool.query<{ value: string; n: number }>("SELECT value, COUNT(*)::int AS n FROM stored_records WHERE collection = 'taken' AND key LIKE $1 GROUP BY value", [`${id}/%`])).rows;
  assert.equal(Object.fromEntries(taken.map((r) => [JSON.parse(r.value) as string, r.n])), counts);
  assert.is(Number((await exportOf(pool, id))!.resources), total);
  assert.is(peer.server.fhir.requests.filter((r) => r.path.endsWith('/$export')).length, 1, 'one kick-off');
}

test('two runtimes on one store: an export asked for by `hdc bulk start --store` runs once, on one runtime', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const c = await startCluster({ linesPerFile: 25 });
  try {
    const started = await c.hdc('start', 'nightly');
    assert.is(started.status, 0, started.stderr + started.stdout);
    const id = /export (\S+) requested/.exec(started.stdout)![1]!;
    const row = (await exportOf(c.pool, id))!;
    assert.is(row.status, 'done', row.error ?? '');
    // The holder of the lease is one of the two runtimes (its id names its process).
    assert.ok(c.children.some((ch) => row.owner?.includes(`-${ch.child.pid}-`)), `owner ${row.owner}`);
    await checkExactlyOnce(c, id);
    const status = await c.hdc('status', 'nightly');
    assert.is(status.status, 0, status.stderr);
    assert.match(status.stdout, /done/);
    const list = await c.hdc('list', '--json');
    assert.ok((JSON.parse(list.stdout) as ExportRow[]).some((r) => r.id === id));
    // A cancel with no export running says so.
    assert.is((await c.hdc('cancel', 'nightly')).status, 1);
  } finally {
    await c.close();
  }
});

test('SIGKILL of the runtime running an export mid-download: the other finishes it, each resource exactly once', async () => {
  if (!db) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  // Slow files of 30 lines: the kill lands inside a file with some files done and some not begun.
  const c = await startCluster({ linesPerFile: 30, throttle: { lines: 2, pauseMs: 30 } });
  try {
    const started = await c.hdc('start', 'nightly', '--detach');
    assert.is(started.status, 0, started.stderr);
    const id = /export (\S+) requested/.exec(started.stdout)![1]!;
    const before = await until(async () => {
      const f = await filesOf(c.pool, id);
      return f.some((x) => x.status === 'done') && f.some((x) => x.status === 'pending' && Number(x.lines) > 0) ? f : undefined;
    }, c.peer, 'a file done and one partly read');
    const owner = (await exportOf(c.pool, id))!.owner!;
    const victim = c.children.find((ch) => owner.includes(`-${ch.child.pid}-`))!;
    assert.ok(victim, `owner ${owner}`);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const requestsBefore = c.peer.server.fhir.requests.length;

    const row = await until(async () => {
      const r = await exportOf(c.pool, id);
      return r && ['done', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    }, c.peer, 'the export to finish');
    assert.is(row.status, 'done', row.error ?? '');
    assert.is.not(row.owner, owner, 'the other runtime took it over');
    assert.ok(c.children.some((ch) => ch !== victim && row.owner?.includes(`-${ch.child.pid}-`)));

    // Files done before the kill were not asked for again; a partly read one resumed by Range.
    const after = c.peer.server.fhir.requests.slice(requestsBefore).filter((r) => r.path.includes('$bulk-file'));
    for (const f of before.filter((x) => x.status === 'done')) assert.not.ok(after.some((r) => r.path.endsWith(`/${f.idx}`)), `file ${f.idx} fetched again`);
    for (const f of before.filter((x) => x.status === 'pending' && Number(x.lines) > 0)) {
      const again = after.find((r) => r.path.endsWith(`/${f.idx}`));
      assert.ok(again, `file ${f.idx} resumed`);
      assert.match(String(again!.headers.range), /^bytes=[1-9]\d*-$/);
    }
    await checkExactlyOnce(c, id);
  } finally {
    await c.close();
  }
});

test.run();
