// A secret written as a literal never reaches the plan: an error by default; with
// allowLiteralSecrets (hdc compile --allow-literal-secrets) a warning and an env() marker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileSources } from '../../compiler/api.ts';

const source = `auth billing basic {
  user "svc"
  password "hunter2"
}
api pay rest "https://billing.example.org/api" {
  auth billing
  header "X-Api-Key" "k-123"
}
`;

test('a literal secret is an error and no plan is written', () => {
  const result = compileSources(new Map([['s.hdc', source]]));
  assert.is(result.plan, undefined);
  const found = result.diagnostics.filter((d) => d.code === 'HDC5001').map((d) => [d.severity, d.range.start.line, d.suggestions?.[0]?.replacement]);
  assert.equal(found, [['error', 3, 'env("PASSWORD")'], ['error', 7, 'env("HEADER_X_API_KEY")']]);
});

test('with allowLiteralSecrets the plan holds a marker, never the value', () => {
  const result = compileSources(new Map([['s.hdc', source]]), { allowLiteralSecrets: true });
  assert.ok(result.plan, JSON.stringify(result.diagnostics));
  assert.equal(result.diagnostics.map((d) => [d.code, d.severity]), [['HDC5001', 'warning'], ['HDC5001', 'warning']]);
  const text = JSON.stringify(result.plan);
  assert.not.ok(text.includes('hunter2'));
  assert.not.ok(text.includes('k-123'));
  assert.equal(result.plan!.auths[0]!.password, { env: 'HDC_LITERAL_SECRET_PASSWORD_LINE_3', src: 's.hdc:3:12-3:21' });
  assert.equal(result.plan!.apis[0]!.headers![0]!.value, { env: 'HDC_LITERAL_SECRET_HEADER_X_API_KEY_LINE_7', src: 's.hdc:7:22-7:29' });
  assert.is(result.plan!.auths[0]!.user, 'svc');
});

test('hdc compile refuses literal secrets unless --allow-literal-secrets is given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-secrets-'));
  writeFileSync(join(dir, 's.hdc'), source);
  const bin = new URL('../../bin/hdc.js', import.meta.url).pathname;
  const refused = spawnSync(process.execPath, [bin, 'compile', 's.hdc', '-o', 'plan.json'], { cwd: dir, encoding: 'utf8' });
  assert.is(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /HDC5001/);
  assert.not.ok(existsSync(join(dir, 'plan.json')));
  const allowed = spawnSync(process.execPath, [bin, 'compile', 's.hdc', '-o', 'plan.json', '--allow-literal-secrets'], { cwd: dir, encoding: 'utf8' });
  assert.is(allowed.status, 0, allowed.stderr);
  const plan = readFileSync(join(dir, 'plan.json'), 'utf8');
  assert.not.ok(plan.includes('hunter2'));
  assert.ok(plan.includes('HDC_LITERAL_SECRET_PASSWORD_LINE_3'));
});

test.run();
