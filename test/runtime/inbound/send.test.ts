// `hdc send` as a partner's operator uses it: problems are one line each (never a stack trace),
// files that cannot be read or decoded are skipped while the others are still sent, and the exit
// status says whether every message was acknowledged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adt, makePlan, sender, startTestRuntime, type TestRuntime } from './helpers.ts';
import { repoRoot } from './child-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-send-'));
let rt: TestRuntime;

test.before(async () => {
  rt = await startTestRuntime(makePlan([sender({ name: 'lab', path: '/hl7/lab', accept: [{ code: 'ADT', trigger: '*' }] })]), null);
});

test.after(async () => {
  await rt.stop();
  rmSync(dir, { recursive: true, force: true });
});

function hdcSend(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [repoRoot + 'bin/hdc.js', 'send', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const noStackTrace = (text: string) => assert.not.match(text, /^\s+at /m, 'no stack trace');
const journaled = (controlId: string) => (rt.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE control_id = ?').get(controlId) as { n: number }).n;

test('unreadable and undecodable files are one line each; the other files are still sent; exit 1', async () => {
  writeFileSync(join(dir, 'first.hl7'), adt({ controlId: 'SEND-1' }));
  writeFileSync(join(dir, 'klingon.hl7'), adt({ controlId: 'SEND-K' }).replace('|||', '||||||KLINGON|'));
  writeFileSync(join(dir, 'empty.hl7'), '');
  mkdirSync(join(dir, 'folder.hl7'), { recursive: true });
  writeFileSync(join(dir, 'last.hl7'), adt({ controlId: 'SEND-2' }) + adt({ controlId: 'SEND-3' }));
  const r = await hdcSend(['first.hl7', 'missing.hl7', 'klingon.hl7', 'empty.hl7', 'folder.hl7', 'last.hl7', '--to', `${rt.url}/hl7/lab`]);
  assert.is(r.code, 1, r.stderr);
  noStackTrace(r.stderr + r.stdout);
  const errors = r.stderr.trim().split('\n');
  assert.equal(errors, [
    'missing.hl7: cannot read (ENOENT)',
    'klingon.hl7: cannot decode (unsupported character set "KLINGON" (from MSH-18))',
    'empty.hl7: no HL7 v2 message in it (no MSH segment)',
    'folder.hl7: cannot read (EISDIR)',
  ]);
  assert.equal(r.stdout.trim().split('\n').map((l) => l.replace(/^(\S+): MSA\|(\w+)\|(\S+).*$/, '$1 $2 $3')), [
    'first.hl7 AA SEND-1', 'last.hl7#1 AA SEND-2', 'last.hl7#2 AA SEND-3',
  ]);
  for (const id of ['SEND-1', 'SEND-2', 'SEND-3']) assert.is(journaled(id), 1, id);
  assert.is(journaled('SEND-K'), 0);
});

test('every message acknowledged: exit 0; a refused one: exit 1', async () => {
  writeFileSync(join(dir, 'ok.hl7'), adt({ controlId: 'SEND-OK' }));
  const ok = await hdcSend(['ok.hl7', '--to', `${rt.url}/hl7/lab`, '--quiet']);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, '');
  writeFileSync(join(dir, 'orm.hl7'), adt({ controlId: 'SEND-ORM', type: 'ORM^O01' }));
  const refused = await hdcSend(['orm.hl7', '--to', `${rt.url}/hl7/lab`]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /^orm\.hl7: MSA\|AR\|SEND-ORM/);
});

test('a bad --to or an unreadable certificate file: one line, exit 2, nothing sent', async () => {
  const url = await hdcSend(['ok.hl7', '--to', 'not a url']);
  assert.is(url.code, 2);
  assert.is(url.stderr.trim(), 'hdc send: --to: not a URL: "not a url"');
  const ca = await hdcSend(['ok.hl7', '--to', `${rt.url}/hl7/lab`, '--ca', 'nowhere.crt']);
  assert.is(ca.code, 2);
  assert.is(ca.stderr.trim(), 'hdc send: --ca nowhere.crt: cannot read (ENOENT)');
  noStackTrace(url.stderr + ca.stderr);
  const down = await hdcSend(['ok.hl7', '--to', 'http://127.0.0.1:1/hl7/lab']);
  assert.is(down.code, 1);
  assert.match(down.stderr.trim(), /^ok\.hl7: connect ECONNREFUSED 127\.0\.0\.1:1$/);
});

test.run();
