// A kill of the runtime process between steps: `hdc run` runs as a child process; while the
// second step of a run is waiting on a slow API the child gets SIGKILL. After a restart on the
// same data directory the run resumes at the interrupted step: the finished first step is not
// repeated, and the run completes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import got from 'got';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Expr } from '../../../../plan/plan.types.ts';
import { withPlanHash } from '../../../../plan/plan-hash.ts';
import { startRestApi, type RestApi } from '../../../peers/rest-api.ts';
import { field, sender } from '../../inbound/helpers.ts';

const S = (line: number) => `flows/billing.hdc:${line}:3-${line}:60`;
const ref = (name: string, ...path: Array<string | number>): Expr => (path.length ? { ref: name, path } : { ref: name });
const obj = (e: Record<string, Expr>): Expr => ({ object: Object.entries(e).map(([key, value]) => ({ key, value })) });

const repoRoot = new URL('../../../../', import.meta.url).pathname;

interface ChildRuntime {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `hdc run` from sources as a child process; resolves once it says where it listens. */
function startChild(args: string[], env: Record<string, string>): Promise<ChildRuntime> {
  const child = spawn(process.execPath, [repoRoot + 'bin/hdc.js', 'run', ...args], {
    cwd: repoRoot,
    env: { ...process.env, HDC_DEV: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`hdc run did not start:\n${lines.join('\n')}`))), 30_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, exited });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`hdc run exited (${code}):\n${lines.join('\n')}`));
    });
  });
}

let billing: RestApi;
let dir: string;
let child: ChildRuntime | undefined;

async function until<T>(f: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-e2e-crash-'));
  billing = await startRestApi({ user: 'hdc', password: 'pw' });
});
test.after(async () => {
  child?.child.kill('SIGKILL');
  await billing.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL during a step; after restart the run resumes there without repeating finished steps', async () => {
  const plan = withPlanHash({
    planVersion: 1,
    compiler: 'hdc test',
    sources: [],
    auths: [{ name: 'billing_basic', kind: 'basic', user: { env: 'CRASH_USER', src: S(1) }, password: { env: 'CRASH_PASS', src: S(1) }, src: S(1) }],
    apis: [{ name: 'billing', kind: 'rest', baseUrl: billing.baseUrl, auth: 'billing_basic', timeoutMs: 20_000, retry: { attempts: 2, backoffMs: 50 }, src: S(2) }],
    senders: [sender({ name: 'lab', path: '/hl7/lab', fields: [field('mrn', 'PID-3.1')], routes: [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'bill', src: S(3) }] })],
    workflows: [
      {
        name: 'bill',
        inputs: ['mrn'],
        src: S(4),
        steps: [
          { id: 'charges', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: { lit: '/charges' }, query: obj({ encounter: ref('mrn'), from: { lit: '2024-01-01' }, to: { lit: '2024-01-02' } }), src: S(5) },
          { id: 'admission', named: true, kind: 'rest', api: 'billing', method: 'POST', urlPath: { lit: '/admissions' }, body: obj({ mrn: ref('mrn'), total: ref('charges', 'total') }), src: S(6) },
          { id: 'again', named: true, kind: 'rest', api: 'billing', method: 'GET', urlPath: { lit: '/charges' }, query: obj({ encounter: { lit: 'after' }, from: { lit: '2024-01-01' }, to: { lit: '2024-01-02' } }), src: S(7) },
        ],
      },
    ],
    launches: [],
    tests: [],
  });
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const env = { CRASH_USER: 'hdc', CRASH_PASS: 'pw' };
  const args = [planFile, '--insecure-http', '--port', '0', '--data', join(dir, 'data'), '--log-level', 'info'];

  // The second step's request hangs until the process is gone.
  billing.fault({ method: 'POST', delayMs: 8000 });
  child = await startChild(args, env);
  const hl7 = 'MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ADT^A01^ADT_A01|CRASH1|P|2.5.1\rPID|1||M-77^^^ACME^MR\r';
  const ack = await got.post(`${child.url}/hl7/lab`, { body: hl7, headers: { 'content-type': 'application/hl7-v2' } }).text();
  assert.match(ack, /MSA\|AA\|CRASH1/);
  await until(() => billing.requests.some((r) => r.method === 'POST'));
  child.child.kill('SIGKILL');
  assert.is((await child.exited).signal, 'SIGKILL');

  const db = new Database(join(dir, 'data', 'hdc.sqlite'), { readonly: true });
  try {
    const run = db.prepare('SELECT id, status, attempts FROM workflow_runs').get() as { id: number; status: string; attempts: number };
    assert.is(run.status, 'running');
    assert.equal(db.prepare('SELECT path, status FROM run_steps WHERE run_id = ?').all(run.id), [{ path: '0', status: 'done' }]);
  } finally {
    db.close();
  }

  billing.clearFaults();
  child = await startChild(args, env);
  const db2 = new Database(join(dir, 'data', 'hdc.sqlite'), { readonly: true });
  try {
    const run = await until(() => {
      const r = db2.prepare('SELECT id, status, attempts FROM workflow_runs').get() as { id: number; status: string; attempts: number };
      return r.status === 'done' || r.status === 'dead' ? r : undefined;
    });
    assert.is(run.status, 'done');
    assert.is(run.attempts, 2);
    const steps = db2.prepare('SELECT path, status, attempt FROM run_steps WHERE run_id = ? ORDER BY path').all(run.id);
    assert.equal(steps, [
      { path: '0', status: 'done', attempt: 1 },
      { path: '1', status: 'done', attempt: 2 },
      { path: '2', status: 'done', attempt: 2 },
    ]);
  } finally {
    db2.close();
  }
  const calls = billing.requests.map((r) => `${r.method} ${r.path}${r.query.encounter ? ` ${r.query.encounter}` : ''}`);
  // The first GET ran once; the interrupted POST is sent again (it never answered: steps are
  // at-least-once across a crash), then the last step.
  assert.equal(calls, ['GET /api/charges M-77', 'POST /api/admissions', 'POST /api/admissions', 'GET /api/charges after']);
  child.child.kill('SIGTERM');
  await child.exited;
  child = undefined;
});

test.run();
