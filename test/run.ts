// Runs every *.test.ts under test/ in its own process (two at a time) and prints the
// closing line CI reads: "N passed, N failed". uvu's own summary is parsed per file.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const fileTimeoutS = Number(process.env.HDC_TEST_FILE_TIMEOUT_S) || 240;
const files = findTests(join(root, 'test')).filter(
  (f) => filter.length === 0 || filter.some((p) => f.includes(p)),
);

interface Outcome { file: string; passed: number; failed: number; skipped: number; output: string }

function runFile(file: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // A file that hangs fails on its own instead of holding up the whole run.
    const timer = setTimeout(() => {
      output += `\n(killed after ${fileTimeoutS} s)`;
      child.kill('SIGKILL');
    }, fileTimeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        resolve({ file, passed: 0, failed: 1, skipped: 0, output: output + `\n(exit code ${code}, no uvu summary)` });
      } else {
        const failed = total - passed - skipped + (code !== 0 && total === passed ? 1 : 0);
        resolve({ file, passed, failed, skipped, output });
      }
    });
  });
}

const started = Date.now();
const queue = [...files];
const results: Outcome[] = [];
const workers = Math.max(1, Math.min(Number(process.env.HDC_TEST_JOBS) || cpus().length, 4));
await Promise.all(
  Array.from({ length: workers }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await runFile(f);
      results.push(r);
      const mark = r.failed ? 'FAIL' : 'ok  ';
      console.log(`${mark} ${relative(root, f)}  (${r.passed} passed${r.failed ? `, ${r.failed} failed` : ''})`);
      if (r.failed) console.log(r.output.split('\n').map((l) => '    ' + l).join('\n'));
    }
  }),
);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
