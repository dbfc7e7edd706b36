// The bundled examples are what newcomers copy: they must check cleanly and their own `test`
// blocks must pass through `hdc test` (real matching, mapping, ACKs and engine; mocked APIs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const hdc = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/hdc.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, HDC_DEV: '1' } });

test('hdc check examples: no errors, no warnings', () => {
  const r = hdc(['check', 'examples']);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /files checked: 0 errors, 0 warnings/);
});

test('hdc test examples: every example test passes', () => {
  const r = hdc(['test', 'examples', '--format', 'json']);
  assert.is(r.status, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  const tests = report.tests as Array<{ status: string; name: string }>;
  assert.ok(tests.length >= 5, r.stdout);
  assert.is(report.failed, 0);
  for (const t of tests) assert.is(t.status, 'passed', `${t.name}: ${JSON.stringify(t)}`);
});

test('hdc fmt --check examples: the examples are in canonical form', () => {
  const r = hdc(['fmt', '--check', 'examples']);
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test.run();
