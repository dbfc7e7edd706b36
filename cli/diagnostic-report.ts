// Renders diagnostics for people (text), machines (json) and GitHub Actions annotations.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../compiler/diagnostics.ts';

export type ReportFormat = 'text' | 'json' | 'github';

export function renderDiagnostics(diags: Diagnostic[], format: ReportFormat, sources?: Map<string, string>): string {
  if (format === 'json') return JSON.stringify(diags, null, 2);
  if (format === 'github') {
    const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
    return diags.map((d) => {
      const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'notice';
      const r = d.range;
      return `::${level} file=${d.file},line=${r.start.line},col=${r.start.col},endLine=${r.end.line},endColumn=${r.end.col},title=${d.code}::${esc(`${d.summary}. ${d.detail}`)}`;
    }).join('\n');
  }
  const cache = sources ?? new Map<string, string>();
  return diags.map((d) => {
    let text = cache.get(d.file);
    if (text === undefined) {
      try { text = readFileSync(d.file, 'utf8'); } catch { text = ''; }
      cache.set(d.file, text);
    }
    const { line, col } = d.range.start;
    const src = text.split('\n')[line - 1]?.replace(/\r$/, '') ?? '';
    const width = d.range.end.line === line ? Math.max(1, d.range.end.col - col) : Math.max(1, src.length - col + 1);
    const gutter = String(line).length;
    const lines = [`${d.file}:${line}:${col}: ${d.severity} ${d.code}: ${d.summary}`];
    if (src) {
      lines.push(`${' '.repeat(gutter)} |`, `${line} | ${src}`, `${' '.repeat(gutter)} | ${' '.repeat(col - 1)}${'^'.repeat(width)}`);
    }
    lines.push(`${' '.repeat(gutter)} = ${d.detail}`);
    if (d.suggestions?.length) lines.push(`${' '.repeat(gutter)} = quick fix: ${d.suggestions.map((s) => s.replacement).join(", ")}`);
    return lines.join('\n');
  }).join('\n\n');
}

export function summaryLine(diags: Diagnostic[]): string {
  const n = (sev: string) => diags.filter((d) => d.severity === sev).length;
  const e = n('error');
  const w = n('warning');
  return `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
}
