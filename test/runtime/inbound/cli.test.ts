// The newcomer's path through the real CLI: `hdc dev-certs`, `hdc run` (defaults picked from
// .hdc-certs/), `hdc send` with the partner certificate, graceful SIGTERM with a request in
// flight, and start-up refusals (missing secret, stale plan, plain HTTP off loopback).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import Database from 'better-sqlite3';
import { adt, makePlan, msas, sender, workflow } from './helpers.ts';
import { repoRoot, startChild, type ChildRuntime } from './child-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-cli-'));
let child: ChildRuntime | undefined;
test.after(() => {
  if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function hdc(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [repoRoot + 'bin/hdc.js', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const plan = makePlan([
  sender({
    name: 'partner', path: '/hl7/partner', identity: { kind: 'client_cert', subject: 'CN=partner' },
    accept: [{ code: 'ADT', trigger: '*' }],
    routes: [{ types: [{ code: 'ADT', trigger: '*' }], workflow: 'w', src: 'labs.hdc:5:3-5:20' }],
  }),
], [workflow('w')]);

test('hdc dev-certs writes a CA, a server and a partner certificate and prints fingerprints', async () => {
  const r = await hdc(['dev-certs', '--partner', 'partner', '--partner', 'second lab']);
  assert.is(r.code, 0, r.stderr);
  for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'partner.crt', 'partner.key', 'second_lab.crt']) {
    assert.ok(existsSync(join(dir, '.hdc-certs', f)), f);
  }
  const server = new X509Certificate(readFileSync(join(dir, '.hdc-certs', 'server.crt')));
  const ca = new X509Certificate(readFileSync(join(dir, '.hdc-certs', 'ca.crt')));
  assert.ok(server.verify(ca.publicKey));
  assert.match(server.subjectAltName ?? '', /DNS:localhost/);
  assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(new X509Certificate(readFileSync(join(dir, '.hdc-certs', 'second_lab.crt'))).subject, /CN=second lab/);
  assert.ok(r.stdout.includes(ca.fingerprint256), r.stdout);
  // A second run reuses the CA and keeps existing certificates.
  const again = await hdc(['dev-certs', '--partner', 'third']);
  assert.is(again.code, 0);
  assert.ok(new X509Certificate(readFileSync(join(dir, '.hdc-certs', 'third.crt'))).verify(ca.publicKey));
  assert.is(new X509Certificate(readFileSync(join(dir, '.hdc-certs', 'ca.crt'))).fingerprint256, ca.fingerprint256);
});

test('hdc run serves mTLS with the dev certificates; hdc send prints MSA lines and exit codes', async () => {
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  writeFileSync(join(dir, 'adt.hl7'), (adt({ controlId: 'SEND-1' }) + adt({ controlId: 'SEND-2' })).replace(/\r/g, '\r\n'));
  writeFileSync(join(dir, 'orm.hl7'), adt({ controlId: 'SEND-3', type: 'ORM^O01' }));
  child = await startChild(['plan.json', '--port', '0'], {}, dir);
  assert.match(child.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const certs = ['--cert', '.hdc-certs/partner.crt', '--key', '.hdc-certs/partner.key', '--ca', '.hdc-certs/ca.crt'];
  const ok = await hdc(['send', 'adt.hl7', '--to', `${child.url}/hl7/partner`, ...certs]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /adt\.hl7#1: MSA\|AA\|SEND-1/);
  assert.match(ok.stdout, /adt\.hl7#2: MSA\|AA\|SEND-2/);
  const rejected = await hdc(['send', 'orm.hl7', '--to', `${child.url}/hl7/partner`, ...certs]);
  assert.is(rejected.code, 1);
  assert.match(rejected.stderr, /orm\.hl7: MSA\|AR\|SEND-3/);
  const noCert = await hdc(['send', 'adt.hl7', '--to', `${child.url}/hl7/partner`, '--ca', '.hdc-certs/ca.crt']);
  assert.is(noCert.code, 1);
  assert.match(noCert.stderr, /HTTP 401/);
  // Logs are JSON and carry no message content: a refusal gets its own line, accepted messages
  // are counted in the periodic traffic line (checked at shutdown below). The line may reach the
  // pipe after the ACK reached the sender.
  await child.waitForLog((l) => l.msg === 'hl7 message');
  const lines = child.logs.filter((l) => l.msg === 'hl7 message');
  assert.equal(lines.map((l) => [l.sender, l.type, l.ack]), [['partner', 'ORM^O01', 'AR']]);
  assert.ok(lines.every((l) => !JSON.stringify(l).includes('DOE') && !JSON.stringify(l).includes('SEND-')));
});

test('SIGTERM drains a request in flight, then exits 0 with the message journaled', async () => {
  const body = Buffer.from(adt({ controlId: 'DRAIN-1' }));
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${child!.url}/hl7/partner`, {
      method: 'POST', agent: false,
      ca: readFileSync(join(dir, '.hdc-certs', 'ca.crt')), cert: readFileSync(join(dir, '.hdc-certs', 'partner.crt')), key: readFileSync(join(dir, '.hdc-certs', 'partner.key')),
      headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': body.length },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 40));
    setTimeout(() => {
      child!.child.kill('SIGTERM');
      setTimeout(() => req.end(body.subarray(40)), 300);
    }, 300);
  });
  const r = await answer;
  assert.is(r.status, 200);
  assert.is(msas(r.text)[0]!.code, 'AA');
  const exit = await child!.exited;
  assert.is(exit.code, 0);
  assert.ok(child!.logs.some((l) => l.msg === 'stopped'));
  // Shutdown logs the traffic counted since the last periodic line: counts only, no content.
  const traffic = child!.logs.filter((l) => l.msg === 'hl7 traffic');
  const counted: Record<string, number> = {};
  for (const l of traffic) {
    for (const [type, acks] of Object.entries((l.senders as Record<string, Record<string, Record<string, number>>>).partner ?? {})) {
      for (const [code, n] of Object.entries(acks)) counted[`${type} ${code}`] = (counted[`${type} ${code}`] ?? 0) + n;
    }
  }
  assert.equal(counted, { 'ADT^A01 AA': 3, 'ORM^O01 AR': 1 });
  assert.ok(traffic.every((l) => !JSON.stringify(l).includes('DOE') && !JSON.stringify(l).includes('SEND-') && !JSON.stringify(l).includes('DRAIN-')));
  const db = new Database(join(dir, '.hdc-data', 'hdc.sqlite'), { readonly: true });
  assert.ok(db.prepare(`SELECT 1 FROM messages WHERE control_id = 'DRAIN-1'`).get());
  db.close();
});

test('hdc run compiles .hdc files first; the quickstart example answers AA and runs its workflow', async () => {
  const example = join(repoRoot, 'examples', 'quickstart');
  child = await startChild([join(example, 'quickstart.hdc'), '--port', '0', '--data', join(dir, 'qs-data')], {}, dir);
  const certs = ['--cert', '.hdc-certs/partner.crt', '--key', '.hdc-certs/partner.key', '--ca', '.hdc-certs/ca.crt'];
  const r = await hdc(['send', join(example, 'fixtures', 'adt-a01.hl7'), '--to', `${child.url}/hl7/partner`, ...certs]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /MSA\|AA\|/);
  child.child.kill('SIGTERM');
  assert.is((await child.exited).code, 0);
  const db = new Database(join(dir, 'qs-data', 'hdc.sqlite'), { readonly: true });
  const run = db.prepare(`SELECT workflow, status FROM workflow_runs`).get() as { workflow: string; status: string };
  assert.is(run.workflow, 'remember_patient');
  db.close();
});

test('start-up refusals: a missing secret names its line, a stale plan, plain HTTP off loopback', async () => {
  const secretPlan = makePlan([
    sender({ name: 'b', path: '/b', identity: { kind: 'basic', user: 'lab', password: { env: 'LAB_PASS', src: 'labs.hdc:12:14-12:29' } } }),
  ]);
  writeFileSync(join(dir, 'secret.json'), JSON.stringify(secretPlan));
  const missing = await hdc(['run', 'secret.json', '--port', '0'], { LAB_PASS: '' });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /labs\.hdc:12: env\("LAB_PASS"\) is not set/);
  const stale = JSON.parse(JSON.stringify(plan));
  stale.senders[0].path = '/elsewhere';
  writeFileSync(join(dir, 'stale.json'), JSON.stringify(stale));
  const s = await hdc(['run', 'stale.json', '--port', '0']);
  assert.is(s.code, 1);
  assert.match(s.stderr, /hash does not match/);
  const http = await hdc(['run', 'plan.json', '--insecure-http', '--host', '0.0.0.0']);
  assert.is(http.code, 2);
  assert.match(http.stderr, /only allowed on a loopback/);
  const help = await hdc(['run', '--help']);
  assert.match(help.stdout, /--client-ca FILE/);
  assert.match(help.stdout, /HDC_RETENTION_DAYS/);
});

test.run();
