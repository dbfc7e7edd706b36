// `hdc fmt` end to end: the real CLI on files in a temporary folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hdc = new URL('../../../bin/hdc.js', import.meta.url).pathname;
let dir: string;

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [hdc, 'fmt', ...args], { cwd: dir, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const messy = 'workflow w{let a=1\n  let b   = 2}\n';
const tidy = 'workflow w {\n  let a = 1\n  let b = 2\n}\n';

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdc-fmt-'));
  mkdirSync(join(dir, 'sub'));
  mkdirSync(join(dir, 'node_modules'));
  writeFileSync(join(dir, 'node_modules', 'ignored.hdc'), messy);
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('--check exits 0 when every file is formatted', () => {
  writeFileSync(join(dir, 'a.hdc'), tidy);
  writeFileSync(join(dir, 'sub', 'b.hdc'), tidy);
  const r = run('--check');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
});

test('--check lists files that would change, exits 1 and writes nothing', () => {
  writeFileSync(join(dir, 'a.hdc'), tidy);
  writeFileSync(join(dir, 'sub', 'b.hdc'), messy);
  const r = run('--check');
  assert.is(r.code, 1);
  assert.is(r.stdout.trim(), 'sub/b.hdc');
  assert.match(r.stderr, /1 file not formatted/);
  assert.is(readFileSync(join(dir, 'sub', 'b.hdc'), 'utf8'), messy);
});

test('fmt rewrites in place (skipping node_modules), after which --check passes', () => {
  writeFileSync(join(dir, 'sub', 'b.hdc'), messy);
  const r = run();
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), 'sub/b.hdc');
  assert.is(readFileSync(join(dir, 'sub', 'b.hdc'), 'utf8'), tidy);
  assert.is(readFileSync(join(dir, 'node_modules', 'ignored.hdc'), 'utf8'), messy);
  assert.is(run('--check').code, 0);
  assert.is(run('sub/b.hdc', '--check').code, 0, 'a file path works too');
});

test('syntax errors: exit 1, file:line:col diagnostics, the file untouched', () => {
  const broken = 'workflow w {\n  let a =\n}\n';
  writeFileSync(join(dir, 'bad.hdc'), broken);
  writeFileSync(join(dir, 'good.hdc'), messy);
  const r = run();
  assert.is(r.code, 1);
  assert.match(r.stderr, /^bad\.hdc:3:1: error HDC1001: expected an expression/m);
  assert.is(readFileSync(join(dir, 'bad.hdc'), 'utf8'), broken);
  assert.is(readFileSync(join(dir, 'good.hdc'), 'utf8'), tidy, 'other files are still formatted');
  assert.is(run('--check', 'bad.hdc').code, 1);
});

test('a missing path is a usage error', () => {
  const r = run('nope.hdc');
  assert.is(r.code, 2);
  assert.match(r.stderr, /no such file or folder: nope\.hdc/);
});

test.run();
