// Collects diagnostics for one file with the shape every consumer expects.
import type { Diagnostic, Severity, Suggestion } from '../diagnostics.ts';
import type { Range } from '../syntax/ast.ts';
import type { Code } from '../codes.ts';

/** Choices made by whoever runs the compiler (the CLI's flags). */
export interface AnalyzeOptions {
  /** hdc compile --allow-literal-secrets: a literal secret is a warning and the plan holds a marker. */
  allowLiteralSecrets?: boolean;
}

export class Reporter {
  constructor(public file: string, private out: Diagnostic[], readonly options: AnalyzeOptions = {}, private texts = new Map<string, string>()) {}
  for(file: string): Reporter { return new Reporter(file, this.out, this.options, this.texts); }
  /** Makes a file's text available to textOf (for quick fixes that rewrite what was written). */
  addText(file: string, text: string): void { this.texts.set(file, text); }
  /** The source text of a range in this file, when known. */
  textOf(range: Range): string | undefined { return this.texts.get(this.file)?.slice(range.start.offset, range.end.offset); }
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
