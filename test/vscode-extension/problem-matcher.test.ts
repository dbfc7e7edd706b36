// The extension's $hdc problem matcher reads what the real `hdc compile` prints: each diagnostic's
// first line gives the file, line, column, severity, code and message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'vscode-extension/package.json'), 'utf8'));

test('the matcher finds every diagnostic of a failing compile, located', () => {
  const [matcher] = manifest.contributes.problemMatchers;
  assert.is(matcher.name, 'hdc');
  const re = new RegExp(matcher.pattern.regexp);
  const dir = mkdtempSync(join(tmpdir(), 'hdc-matcher-'));
  try {
    writeFileSync(join(dir, 'broken.hdc'), 'sender lab {\n  path "/hl7/lab"\n  accept ORU^R01\n  on ORU^R01 run missing_workflow\n}\n');
    const r = spawnSync(process.execPath, [join(root, 'bin/hdc.js'), 'compile', '.'], { cwd: dir, encoding: 'utf8', env: { ...process.env, HDC_DEV: '1' } });
    assert.is(r.status, 1);
    const hits = (r.stdout + r.stderr).split('\n').map((l) => re.exec(l)).filter((m) => m !== null);
    assert.ok(hits.length >= 1, r.stdout + r.stderr);
    const unknown = hits.find((m) => m[matcher.pattern.code] === 'HDC2001')!;
    assert.ok(unknown, 'HDC2001 matched');
    assert.is(unknown[matcher.pattern.file], 'broken.hdc');
    assert.is(unknown[matcher.pattern.line], '4');
    assert.is(unknown[matcher.pattern.column], '18');
    assert.is(unknown[matcher.pattern.severity], 'error');
    assert.match(unknown[matcher.pattern.message]!, 'missing_workflow');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the compile and test tasks use it', () => {
  const src = readFileSync(join(root, 'vscode-extension/src/extension.ts'), 'utf8');
  assert.match(src, "['$hdc']");
});

test.run();
