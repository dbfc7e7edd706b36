// Runs the real `hdc test` for the editor's "Run test" and "Run all tests" code lenses: the CLI in
// the project's folder (fixtures resolve from there, as on the command line), its JSON report read
// back, and each failing expectation turned into a diagnostic on the line that wrote it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../compiler/diagnostics.ts';
import { toPosixPath } from './workspace.ts';

/** A test in `hdc test --format json`'s report (the CLI's output, read as data). */
interface ReportedTest { name: string; status: 'passed' | 'failed' | 'skipped'; failures: Array<{ at: string; message: string }> }

export const RUN_TEST_COMMAND = 'hdc.server.runTest';
export const RUN_TESTS_COMMAND = 'hdc.server.runTests';

export interface TestRun {
  passed: number;
  failed: number;
  skipped: number;
  /** Failing expectations, by file (the server's path form). */
  diagnostics: Map<string, Diagnostic[]>;
  /** Why no report came back (the project does not compile, the CLI was not found). */
  error?: string;
}

/**
 * The CLI: the client's (initializationOptions.cli, e.g. ["node", "/opt/hdc/bin/hdc.js"]), else the
 * hdc this server belongs to, else `hdc` on the PATH.
 */
export function defaultCli(): string[] {
  for (const rel of ['../bin/hdc.js', '../../bin/hdc.js']) {
    const candidate = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(candidate)) return [process.execPath, candidate];
  }
  return ['hdc'];
}

export function runTests(cli: string[], dir: string, readText: (path: string) => string | undefined, filter?: string): Promise<TestRun> {
  const [command, ...args] = cli;
  const argv = [...args, 'test', '--format', 'json', ...(filter ? ['--filter', filter] : []), '.'];
  return new Promise((done) => {
    const child = spawn(command!, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => done({ passed: 0, failed: 0, skipped: 0, diagnostics: new Map(), error: `could not run ${command}: ${e.message}` }));
    child.on('close', () => {
      // The report is the JSON object printed last (the runtime may log before it).
      const start = out.startsWith('{') ? 0 : out.lastIndexOf('\n{') + 1;
      let report: { passed: number; failed: number; skipped: number; tests: ReportedTest[] };
      try {
        report = JSON.parse(out.slice(start));
      } catch {
        done({ passed: 0, failed: 0, skipped: 0, diagnostics: new Map(), error: (err || out).trim().split('\n').slice(-1)[0] || 'hdc test printed no report' });
        return;
      }
      done({ ...report, diagnostics: failuresAsDiagnostics(report.tests, dir, readText) });
    });
  });
}

function failuresAsDiagnostics(tests: ReportedTest[], dir: string, readText: (path: string) => string | undefined): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const t of tests) {
    if (t.status !== 'failed') continue;
    for (const f of t.failures) {
      const m = /^(.*):(\d+)$/.exec(f.at);
      if (!m) continue;
      const path = toPosixPath(isAbsolute(m[1]!) ? m[1]! : resolve(dir, m[1]!));
      const line = Number(m[2]);
      const text = readText(path)?.split('\n')[line - 1]?.replace(/\r$/, '') ?? '';
      // The expectation's line, from its first character to its last.
      const first = text.length - text.trimStart().length;
      const lineOffset = lineStartOffset(readText(path) ?? '', line);
      const diagnostic: Diagnostic = {
        code: 'HDC7010', severity: 'error', file: path,
        summary: `test "${t.name}" failed: ${f.message.split('\n')[0]}`,
        detail: `${f.message.includes('\n') ? f.message.split('\n').slice(1).join('\n') + '\n' : ''}Fix the expectation or the integration, then run the test again (hdc test --filter "${t.name}").`,
        range: {
          start: { line, col: first + 1, offset: lineOffset + first },
          end: { line, col: text.trimEnd().length + 1, offset: lineOffset + text.trimEnd().length },
        },
      };
      const list = out.get(path);
      if (list) list.push(diagnostic);
      else out.set(path, [diagnostic]);
    }
  }
  return out;
}

function lineStartOffset(text: string, line: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return offset;
}
