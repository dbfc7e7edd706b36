// One diagnostic shape for the CLI, the plan writer and the language server.
import type { Range } from './syntax/ast.ts';
import type { Code } from './codes.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Suggestion {
  /** Replacement text for `range` (a "did you mean" quick fix). */
  replacement: string;
  range: Range;
  label?: string;
}

export interface Diagnostic {
  /** One of compiler/codes.ts. */
  code: Code;
  severity: Severity;
  /** One line: what is wrong. */
  summary: string;
  /** How to fix it. */
  detail: string;
  file: string;
  range: Range;
  suggestions?: Suggestion[];
}

export const isError = (d: Diagnostic): boolean => d.severity === 'error';

export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags.sort(
    (a, b) => a.file.localeCompare(b.file) || a.range.start.offset - b.range.start.offset || a.code.localeCompare(b.code),
  );
}
