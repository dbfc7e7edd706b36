// Crash safety: `hdc run` as a child process takes hundreds of concurrent messages, is killed
// with SIGKILL mid-load, and restarted on the same data directory. Every message that received
// AA is in the journal exactly once, and resending everything processes nothing twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import Database from 'better-sqlite3';
import { adt, createPki, makePlan, msas, sender, workflow } from './helpers.ts';
import { startChild, type ChildRuntime } from './child-runtime.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';

const TOTAL = 600;
const CONCURRENCY = 48;
const KILL_AFTER = 200;

let dir: string;
let partner: IssuedCertificate;
let ca: string;
let args: string[];
let child: ChildRuntime | undefined;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-crash-'));
  const pki = await createPki();
  partner = await pki.client('crash-partner');
  ca = pki.ca.cert;
  writeFileSync(join(dir, 'server.crt'), pki.server.cert);
  writeFileSync(join(dir, 'server.key'), pki.server.key);
  writeFileSync(join(dir, 'ca.crt'), pki.ca.cert);
  const plan = makePlan([
    sender({
      name: 'partner', path: '/hl7/partner', identity: { kind: 'client_cert', subject: 'CN=crash-partner' },
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'crash.hdc:1:1-1:2' }],
    }),
  ], [workflow('w')]);
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  args = [join(dir, 'plan.json'), '--port', '0', '--data', join(dir, 'data'), '--cert', join(dir, 'server.crt'),
    '--key', join(dir, 'server.key'), '--client-ca', join(dir, 'ca.crt'), '--log-level', 'warn'];
});

test.after(() => {
  if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function send(url: string, agent: Agent, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/hl7/partner`, { method: 'POST', agent, headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('SIGKILL mid-load loses no acknowledged message and duplicates none', async () => {
  child = await startChild(args);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca, cert: partner.cert, key: partner.key });
  const bodies = Array.from({ length: TOTAL }, (_, i) => adt({ controlId: `CRASH-${i}` }));
  const acked = new Set<string>();
  let failed = 0;
  let next = 0;
  let killed = false;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < TOTAL) {
      const i = next++;
      try {
        const ack = await send(child!.url, agent, bodies[i]!);
        const [msa] = msas(ack);
        if (msa?.code === 'AA') acked.add(msa.controlId);
        if (acked.size >= KILL_AFTER && !killed) {
          killed = true;
          child!.child.kill('SIGKILL');
        }
      } catch {
        failed++;
      }
    }
  }));
  agent.destroy();
  const exit = await child.exited;
  assert.is(exit.signal, 'SIGKILL');
  assert.ok(acked.size >= KILL_AFTER, `acked ${acked.size}`);
  assert.ok(failed > 0, 'the kill happened while requests were in flight');

  // Restart on the same data directory: the journal opens and holds every acknowledged message.
  child = await startChild(args);
  const db = new Database(join(dir, 'data', 'hdc.sqlite'), { readonly: true });
  const rows = db.prepare(`SELECT control_id, COUNT(*) AS n FROM messages WHERE sender = 'partner' GROUP BY control_id`).all() as { control_id: string; n: number }[];
  const stored = new Map(rows.map((r) => [r.control_id, r.n]));
  const missing = [...acked].filter((id) => stored.get(id) !== 1);
  assert.equal(missing, [], 'every AA is journaled exactly once');

  // Resending everything: acknowledged ones get their original ACK, nothing is processed twice.
  const agent2 = new Agent({ keepAlive: true, maxSockets: 8, ca, cert: partner.cert, key: partner.key });
  next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < TOTAL) {
      const i = next++;
      const ack = await send(child!.url, agent2, bodies[i]!);
      assert.is(msas(ack)[0]!.code, 'AA');
    }
  }));
  agent2.destroy();
  const counts = db.prepare(`SELECT COUNT(*) AS messages, (SELECT COUNT(*) FROM workflow_runs) AS runs FROM messages`).get() as { messages: number; runs: number };
  assert.is(counts.messages, TOTAL);
  assert.is(counts.runs, TOTAL);
  db.close();
  child.child.kill('SIGTERM');
  const stopped = await child.exited;
  assert.is(stopped.code, 0);
});

test.run();
