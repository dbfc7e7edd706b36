// Collects diagnostics for one file with the shape every consumer expects.
import type { Diagnostic, Severity, Suggestion } from '../diagnostics.ts';
import type { Range } from '../syntax/ast.ts';
import type { Code } from '../codes.ts';

export class Reporter {
  constructor(public file: string, private out: Diagnostic[]) {}
  for(file: string): Reporter { return new Reporter(file, this.out); }
  report(severity: Severity, code: Code, range: Range, summary: string, detail: string, suggestions: Suggestion[] = []): void {
    const d: Diagnostic = { code, severity, summary, detail, file: this.file, range };
    if (suggestions.length) d.suggestions = suggestions;
    this.out.push(d);
  }
  error(code: Code, range: Range, summary: string, detail: string, suggestions?: Suggestion[]): void {
    this.report('error', code, range, summary, detail, suggestions);
  }
  warning(code: Code, range: Range, summary: string, detail: string, suggestions?: Suggestion[]): void {
    this.report('warning', code, range, summary, detail, suggestions);
  }
  info(code: Code, range: Range, summary: string, detail: string, suggestions?: Suggestion[]): void {
    this.report('info', code, range, summary, detail, suggestions);
  }
}
