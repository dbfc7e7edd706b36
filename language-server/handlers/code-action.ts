// Quick fixes: a compiler diagnostic's suggestions ("did you mean PID-5?", env("SECRET") for a
// literal secret) travel in the LSP diagnostic's `data` and come back here as edits.
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic as LspDiagnostic, type Range } from 'vscode-languageserver';

export interface SuggestionData { replacement: string; range: Range; label?: string }
export interface DiagnosticData { suggestions?: SuggestionData[] }

export function codeActions(params: CodeActionParams): CodeAction[] {
  if (params.context.only && !params.context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) return [];
  const out: CodeAction[] = [];
  for (const diagnostic of params.context.diagnostics as LspDiagnostic[]) {
    const data = diagnostic.data as DiagnosticData | undefined;
    (data?.suggestions ?? []).forEach((s, i) => {
      out.push({
        title: title(s),
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: i === 0,
        edit: { changes: { [params.textDocument.uri]: [{ range: s.range, newText: s.replacement }] } },
      });
    });
  }
  return out;
}

/** "Change to PID-5", "Remove "{"", "Insert "}"": what the edit does, in the editor's lightbulb menu. */
function title(s: SuggestionData): string {
  const empty = s.range.start.line === s.range.end.line && s.range.start.character === s.range.end.character;
  if (s.replacement === '') return s.label ? s.label[0]!.toUpperCase() + s.label.slice(1) : 'Remove';
  if (empty) return `Insert ${JSON.stringify(s.replacement.trim())}`;
  return s.label && s.label !== s.replacement ? `Change to ${s.replacement} (${s.label})` : `Change to ${s.replacement}`;
}
