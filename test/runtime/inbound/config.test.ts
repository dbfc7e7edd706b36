// Start-up checks: the plan (schema, version, hash), env()/file() values named by their .hdc
// line, and the options of `hdc run`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPlan, loadPlanFile, PlanError } from '../../../plan/load-plan.ts';
import { planHash, withPlanHash } from '../../../plan/plan-hash.ts';
import { resolvePlanValues, UnresolvedValuesError } from '../../../runtime/platform/config/resolve-values.ts';
import { parseRunOptions, parseSize, OptionsError } from '../../../runtime/platform/config/run-options.ts';
import { makePlan, sender } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('planHash is sha256 over canonical JSON (sorted keys) of the plan without its hash', async () => {
  const plan = makePlan([sender({ name: 'a', path: '/a' })]);
  const { hash, ...rest } = plan;
  const { createHash } = await import('node:crypto');
  const sortKeys = (v: unknown): unknown => Array.isArray(v) ? v.map(sortKeys)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
  assert.is(hash, 'sha256:' + createHash('sha256').update(JSON.stringify(sortKeys(rest))).digest('hex'));
  assert.is(planHash(plan), hash);
  assert.is(withPlanHash(plan).hash, hash);
});

test('a plan re-serialised with its keys in another order is still accepted', () => {
  const plan = makePlan([sender({ name: 'a', path: '/a' })]);
  const reverse = (v: unknown): unknown => Array.isArray(v) ? v.map(reverse)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reverse((v as Record<string, unknown>)[k])])) : v;
  const reordered = reverse(plan);
  assert.not.equal(JSON.stringify(reordered), JSON.stringify(plan));
  assert.equal(checkPlan(reordered, 'plan.json'), reordered);
});

test('a valid plan file loads', () => {
  const plan = makePlan([sender({ name: 'a', path: '/a' })]);
  const file = join(dir, 'ok.json');
  writeFileSync(file, JSON.stringify(plan, null, 2));
  assert.equal(loadPlanFile(file), plan);
});

test('bad plans are refused with a clear message', () => {
  const plan = makePlan([sender({ name: 'a', path: '/a' })]);
  const refuse = (data: unknown, re: RegExp) => {
    try {
      checkPlan(data, 'plan.json');
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, PlanError);
      assert.match((err as Error).message, re);
    }
  };
  refuse([], /not an execution plan/);
  refuse({ ...plan, planVersion: 2 }, /plan version 2 is not supported/);
  refuse({ ...plan, senders: [{ name: 'x' }] }, /invalid plan:\n.*\/senders\/0/);
  const edited = JSON.parse(JSON.stringify(plan));
  edited.senders[0].path = '/b';
  refuse(edited, /hash does not match.*recompile/);
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{ not json');
  assert.throws(() => loadPlanFile(file), /broken.json: not valid JSON/);
  assert.throws(() => loadPlanFile(join(dir, 'missing.json')), /cannot read the plan \(ENOENT\)/);
});

test('env() and file() values resolve; missing ones name the .hdc line', () => {
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'pass.txt'), 'from-file\n');
  const plan = makePlan([
    sender({ name: 'a', path: '/a', identity: { kind: 'basic', user: { env: 'LAB_USER', src: 'conf/labs.hdc:7:10-7:25' }, password: { file: 'pass.txt', src: 'conf/labs.hdc:8:14-8:30' } } }),
    sender({ name: 'b', path: '/b', identity: { kind: 'basic', user: { env: 'NOPE', default: 'fallback', src: 'labs.hdc:9:1-9:2' }, password: { file: { env: 'PASS_FILE', src: 'labs.hdc:10:1-10:2' }, base: 'conf', src: 'labs.hdc:10:1-10:30' } } }),
  ]);
  const resolved = resolvePlanValues(plan, { env: { LAB_USER: 'lab', PASS_FILE: 'pass.txt' }, workDir: dir });
  assert.equal(resolved.senders[0]!.identity, { kind: 'basic', user: 'lab', password: 'from-file' });
  assert.equal(resolved.senders[1]!.identity, { kind: 'basic', user: 'fallback', password: 'from-file' });
  try {
    resolvePlanValues(plan, { env: {}, workDir: dir });
    assert.unreachable('resolved without LAB_PASS');
  } catch (err) {
    assert.instance(err, UnresolvedValuesError);
    const problems = (err as UnresolvedValuesError).problems;
    assert.ok(problems.includes('conf/labs.hdc:7: env("LAB_USER") is not set'), problems.join('\n'));
    assert.ok(problems.includes('labs.hdc:10: env("PASS_FILE") is not set'), problems.join('\n'));
  }
  const missingFile = makePlan([sender({ name: 'c', path: '/c', identity: { kind: 'basic', user: 'u', password: { file: 'gone.txt', src: 'labs.hdc:12:3-12:20' } } })]);
  assert.throws(() => resolvePlanValues(missingFile, { env: {}, workDir: dir }), /labs\.hdc:12: file\("gone\.txt"\) cannot be read \(ENOENT/);
});

test('run options: defaults, HDC_* variables, flags win; plain HTTP only on loopback', () => {
  const o = parseRunOptions(['plan.json'], {}, dir);
  assert.is(o.host, '127.0.0.1');
  assert.is(o.port, 8443);
  assert.is(o.dataDir, join(dir, '.hdc-data'));
  assert.is(o.maxBodyBytes, 5 * 1024 * 1024);
  assert.is(o.logPhi, false);
  assert.is(o.cert, undefined);
  const e = parseRunOptions(['plan.json'], { HDC_PORT: '9000', HDC_LOG_PHI: '1', HDC_BODY_LIMIT: '64k', HDC_RETENTION_DAYS: '30' }, dir);
  assert.equal([e.port, e.logPhi, e.maxBodyBytes, e.retentionDays], [9000, true, 65536, 30]);
  assert.is(parseRunOptions(['plan.json', '--port', '9100'], { HDC_PORT: '9000' }, dir).port, 9100);
  assert.throws(() => parseRunOptions(['plan.json', '--insecure-http', '--host', '0.0.0.0'], {}, dir), /only allowed on a loopback/);
  assert.is(parseRunOptions(['plan.json', '--insecure-http', '--host', '::1'], {}, dir).insecureHttp, true);
  assert.throws(() => parseRunOptions([], {}, dir), (err: Error) => err instanceof OptionsError && /expected a plan/.test(err.message));
  assert.throws(() => parseSize('lots', '--body-limit'), /expected a size/);
  // Connection limits: documented defaults, variables and flags.
  assert.equal([o.maxConnections, o.tlsHandshakeTimeoutMs, o.idleTimeoutMs], [1000, 10_000, 10_000]);
  const l = parseRunOptions(['plan.json', '--idle-timeout', '2500'], { HDC_MAX_CONNECTIONS: '50', HDC_HANDSHAKE_TIMEOUT: '3000', HDC_IDLE_TIMEOUT: '9000' }, dir);
  assert.equal([l.maxConnections, l.tlsHandshakeTimeoutMs, l.idleTimeoutMs], [50, 3000, 2500]);
  assert.throws(() => parseRunOptions(['plan.json', '--max-connections', '0'], {}, dir), /--max-connections: expected an integer ≥ 1/);
  // The dev-certs files are the TLS defaults when present.
  mkdirSync(join(dir, '.hdc-certs'), { recursive: true });
  for (const f of ['server.crt', 'server.key', 'ca.crt']) writeFileSync(join(dir, '.hdc-certs', f), '');
  const d = parseRunOptions(['plan.json'], {}, dir);
  assert.equal([d.cert, d.key, d.clientCa], ['server.crt', 'server.key', 'ca.crt'].map((f) => join(dir, '.hdc-certs', f)));
});

test.run();
