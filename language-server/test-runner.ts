// Runs the real `hdc test` for the editor's "Run test" and "Run all tests" code lenses: the CLI in
// the project's folder (fixtures resolve from there, as on the command line), its JSON report read
// back, and each failing expectation turned into a diagnostic on the line that wrote it. The
// commands also answer with every test's result (the VS Code Testing API reads them).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Range } from 'vscode-languageserver';
import type { Diagnostic } from '../compiler/diagnostics.ts';
import { pathToUri, toPosixPath, uriToPath } from './workspace.ts';

/** A test in `hdc test --format json`'s report (the CLI's output, read as data). */
interface ReportedTest { name: string; file?: string; status: 'passed' | 'failed' | 'skipped'; ms?: number; reason?: string; failures: Array<{ at: string; message: string }> }

/** A failing expectation: its message and, when the report locates it, its line (LSP range). */
export interface TestFailureResult { message: string; uri?: string; range?: Range }

/** One test's result, as the run commands answer it. */
export interface TestResultItem {
  name: string;
  /** The file declaring the test. */
  uri?: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  /** Why it was skipped. */
  reason?: string;
  failures: TestFailureResult[];
}

export const RUN_TEST_COMMAND = 'hdc.server.runTest';
export const RUN_TESTS_COMMAND = 'hdc.server.runTests';

export interface TestRun {
  passed: number;
  failed: number;
  skipped: number;
  /** Failing expectations, by file (the server's path form). */
  diagnostics: Map<string, Diagnostic[]>;
  /** Every test that ran, with its failures located. */
  tests: TestResultItem[];
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

/** signal: aborting it stops the CLI (a cancelled run). */
export function runTests(cli: string[], dir: string, readText: (path: string) => string | undefined, filter?: string, signal?: AbortSignal): Promise<TestRun> {
  const [command, ...args] = cli;
  const argv = [...args, 'test', '--format', 'json', ...(filter ? ['--filter', filter] : []), '.'];
  const none = (error: string): TestRun => ({ passed: 0, failed: 0, skipped: 0, diagnostics: new Map(), tests: [], error });
  return new Promise((done) => {
    if (signal?.aborted) return done(none('the run was cancelled'));
    const child = spawn(command!, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: process.env, ...(signal ? { signal } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => done(none(signal?.aborted ? 'the run was cancelled' : `could not run ${command}: ${e.message}`)));
    child.on('close', () => {
      if (signal?.aborted) return done(none('the run was cancelled'));
      // The report is the JSON object printed last (the runtime may log before it).
      const start = out.startsWith('{') ? 0 : out.lastIndexOf('\n{') + 1;
      let report: { passed: number; failed: number; skipped: number; tests: ReportedTest[] };
      try {
        report = JSON.parse(out.slice(start));
      } catch {
        done(none((err || out).trim().split('\n').slice(-1)[0] || 'hdc test printed no report'));
        return;
      }
      const tests = report.tests.map((t) => located(t, dir, readText));
      done({ passed: report.passed, failed: report.failed, skipped: report.skipped, tests, diagnostics: failuresAsDiagnostics(tests, readText) });
    });
  });
}

/** A reported test with its file as a URI and each failure's FILE:LINE as the expectation's line. */
function located(t: ReportedTest, dir: string, readText: (path: string) => string | undefined): TestResultItem {
  const absolute = (file: string) => toPosixPath(isAbsolute(file) ? file : resolve(dir, file));
  const failures = t.failures.map((f): TestFailureResult => {
    const m = /^(.*):(\d+)$/.exec(f.at);
    if (!m) return { message: f.message };
    const path = absolute(m[1]!);
    const line = Number(m[2]) - 1;
    const text = readText(path)?.split('\n')[line]?.replace(/\r$/, '') ?? '';
    // The expectation's line, from its first character to its last.
    const first = text.length - text.trimStart().length;
    return { message: f.message, uri: pathToUri(path), range: { start: { line, character: first }, end: { line, character: text.trimEnd().length } } };
  });
  return {
    name: t.name, status: t.status, ms: Math.round(t.ms ?? 0), failures,
    ...(t.file ? { uri: pathToUri(absolute(t.file)) } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
  };
}

function failuresAsDiagnostics(tests: TestResultItem[], readText: (path: string) => string | undefined): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const t of tests) {
    if (t.status !== 'failed') continue;
    for (const f of t.failures) {
      if (!f.uri || !f.range) continue;
      const path = uriToPath(f.uri);
      const line = f.range.start.line + 1;
      const lineOffset = lineStartOffset(readText(path) ?? '', line);
      const diagnostic: Diagnostic = {
        code: 'HDC7010', severity: 'error', file: path,
        summary: `test "${t.name}" failed: ${f.message.split('\n')[0]}`,
        detail: `${f.message.includes('\n') ? f.message.split('\n').slice(1).join('\n') + '\n' : ''}Fix the expectation or the integration, then run the test again (hdc test --filter "${t.name}").`,
        range: {
          start: { line, col: f.range.start.character + 1, offset: lineOffset + f.range.start.character },
          end: { line, col: f.range.end.character + 1, offset: lineOffset + f.range.end.character },
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
