// The CLI as users run it: exit codes, formats, and no plan written on errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from '../../plan/validate-plan.js';

const root = new URL('../..', import.meta.url).pathname;
const hdc = (args: string[], cwd = root) =>
  spawnSync(process.execPath, [join(root, 'bin/hdc.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, HDC_DEV: '1' } });
const dir = mkdtempSync(join(tmpdir(), 'hdc-cli-'));

test('check passes on the examples and compile writes a valid, deterministic plan', () => {
  const check = hdc(['check', 'examples']);
  assert.is(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /\d+ files checked: 0 errors/);
  const out = join(dir, 'plan.json');
  const c1 = hdc(['compile', 'examples', '-o', out]);
  assert.is(c1.status, 0, c1.stderr);
  const first = readFileSync(out, 'utf8');
  const plan = JSON.parse(first);
  assert.ok(validate(plan), JSON.stringify(validate.errors));
  assert.is(plan.senders.length, 5); // hl7-to-fhir's lab_feed is the fifth
  assert.is(plan.launches.length, 1);
  assert.not.match(first, /s3cr3t|BEGIN PRIVATE KEY/);
  hdc(['compile', 'examples', '-o', out]);
  assert.is(readFileSync(out, 'utf8'), first, 'same sources give a byte-identical plan');
});

test('an unknown flag is a usage error (exit 2 with the usage) for every command', () => {
  for (const command of ['check', 'compile', 'fmt', 'explain', 'convert', 'run', 'send', 'parse', 'runs', 'test', 'dev-certs', 'users']) {
    const r = hdc([command, '--no-such-flag']);
    assert.is(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /--no-such-flag/, command);
    assert.match(r.stderr, /Usage:\s+hdc /, command);
    assert.not.match(r.stderr, /\n\s+at /, `${command} printed a stack trace`);
  }
});

test('a value outside an option\'s choices, or a missing argument, is a usage error too', () => {
  for (const args of [['check', '--format', 'xml'], ['explain', '--format', 'yaml'], ['test', '--format', 'tap'], ['parse', '--breaks', 'nl', 'x.hl7'], ['parse'], ['send', 'x.hl7']]) {
    const r = hdc(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^hdc ${args[0]}: `), args.join(' '));
    assert.match(r.stderr, /Usage:\s+hdc /, args.join(' '));
  }
});

test('hdc --help lists every command with its summary', () => {
  const r = hdc(['--help']);
  assert.is(r.status, 0);
  for (const command of ['check', 'compile', 'fmt', 'explain', 'test', 'run', 'runs', 'send', 'parse', 'users', 'dev-certs', 'lsp']) {
    assert.match(r.stdout, new RegExp(`\\n  ${command}\\s+\\S`), command);
  }
});

test('errors: exit 1, located text with a caret, and no plan file', () => {
  const bad = join(dir, 'bad.hdc');
  writeFileSync(bad, 'sender s {\n  path "/x"\n  version "2.5.1"\n  accept ADT^A01\n  fields { a = PID-99 }\n}\n');
  const r = hdc(['check', bad], dir);
  assert.is(r.status, 1);
  assert.match(r.stdout, /bad\.hdc:5:16: error HDC3002: PID-99 does not exist/);
  assert.match(r.stdout, /\n5 \|   fields \{ a = PID-99 \}\n  \|\s+\^{6}\n/);
  const out = join(dir, 'never.json');
  const c = hdc(['compile', bad, '-o', out], dir);
  assert.is(c.status, 1);
  assert.not.ok(existsSync(out));
});

test('json and github formats', () => {
  const bad = join(dir, 'bad2.hdc');
  writeFileSync(bad, 'workflow w {\n  x = frist(1)\n}\n');
  const j = hdc(['check', '--format', 'json', bad], dir);
  assert.is(j.status, 1);
  const diags = JSON.parse(j.stdout);
  const fn = diags.find((d: { code: string }) => d.code === 'HDC1001' || d.code === 'HDC2009');
  assert.ok(fn, j.stdout);
  const g = hdc(['check', '--format', 'github', bad], dir);
  assert.match(g.stdout, /^::(error|warning) file=bad2\.hdc,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=HDC\d{4}::/m);
});

test('--help and --version on every command', () => {
  const v = hdc(['--version']);
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const h = hdc(['--help']);
  assert.is(h.status, 0);
  for (const cmd of ['check', 'compile', 'fmt', 'explain']) {
    assert.match(h.stdout, new RegExp(`\\n  ${cmd}\\s`));
    const ch = hdc([cmd, '--help']);
    assert.is(ch.status, 0, cmd);
    assert.match(ch.stdout, new RegExp(`Usage: hdc ${cmd}`));
  }
  const u = hdc(['nope']);
  assert.is(u.status, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
