// Runs every *.test.ts under test/ in its own process (up to four at a time) and prints the
// closing line CI reads: "N passed, N failed[, N skipped]". Each file runs through run-file.ts,
// which reports its counts as JSON on a pipe; a file that exits non-zero, reports nothing or hangs
// counts as failed. With HDC_REQUIRE_PEERS=1 (set by .ci/run) a skipped test is a failure: there,
// every optional peer (chromium, slapd, PostgreSQL) must be present.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';

const root = new URL('../..', import.meta.url).pathname;
const runFileScript = new URL('./run-file.ts', import.meta.url).pathname;
const filter = process.argv.slice(2);
const requirePeers = process.env.HDC_REQUIRE_PEERS === '1';

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
interface Counts { passed: number; failed: number; skipped: number }

function runFile(file: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runFileScript, file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let report = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.stdio[3]!.on('data', (d) => (report += d));
    // A file that hangs fails on its own instead of holding up the whole run.
    const timer = setTimeout(() => {
      output += `\n(killed after ${fileTimeoutS} s)`;
      child.kill('SIGKILL');
    }, fileTimeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let counts: Counts | undefined;
      try {
        counts = report ? (JSON.parse(report) as Counts) : undefined;
      } catch {
        counts = undefined;
      }
      if (!counts) {
        resolve({ file, passed: 0, failed: 1, skipped: 0, output: output + `\n(exit code ${code}, no test report)` });
        return;
      }
      let { passed, failed, skipped } = counts;
      // Tests that all passed in a process that then failed (an error after the last test).
      if (code !== 0 && failed === 0) failed = 1;
      if (requirePeers && skipped > 0) {
        output += `\n(${skipped} skipped while HDC_REQUIRE_PEERS=1: a required peer is missing)`;
        failed += skipped;
        skipped = 0;
      }
      resolve({ file, passed, failed, skipped, output });
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
      const counts = [`${r.passed} passed`, r.failed ? `${r.failed} failed` : '', r.skipped ? `${r.skipped} skipped` : ''];
      console.log(`${mark} ${relative(root, f)}  (${counts.filter(Boolean).join(', ')})`);
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
