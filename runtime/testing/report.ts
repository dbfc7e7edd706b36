// How `hdc test` prints results: grouped by file like a test runner, or JSON for CI.
import type { TestResult } from './run-tests.ts';

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
}

export function summarize(results: TestResult[], ms: number): TestSummary {
  return {
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    ms: Math.round(ms),
  };
}

export function formatText(results: TestResult[], summary: TestSummary, color = false): string {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines: string[] = [];
  let file = '';
  for (const r of results) {
    if (r.file !== file) {
      if (file) lines.push('');
      file = r.file;
      lines.push(file);
    }
    if (r.status === 'passed') lines.push(`  ${paint(32, '✓')} ${r.name} ${paint(2, `(${r.ms} ms)`)}`);
    else if (r.status === 'skipped') lines.push(`  ${paint(33, '-')} ${r.name} ${paint(2, `(skipped: ${r.reason})`)}`);
    else {
      lines.push(`  ${paint(31, '✗')} ${r.name}`);
      // A message's further lines (the requests made, say) are indented under it.
      for (const f of r.failures) lines.push(`      ${f.at}: ${f.message.replace(/\n/g, '\n        ')}`);
    }
  }
  if (results.length) lines.push('');
  const parts = [`${summary.passed} passed`, `${summary.failed} failed`];
  if (summary.skipped) parts.push(`${summary.skipped} skipped`);
  lines.push(`${parts.join(', ')} (${(summary.ms / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

export function formatJson(results: TestResult[], summary: TestSummary): string {
  return JSON.stringify({ ...summary, tests: results }, null, 2);
}
