// Publishes a project's compiler diagnostics: codes, ranges, summaries with their fix, related
// declarations, and the "did you mean" suggestions (as `data`, for the quick fixes).
import { DiagnosticSeverity, DiagnosticTag, type Connection, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../../compiler/diagnostics.ts';
import { toLspRange } from '../ranges.ts';
import { pathToUri } from '../workspace.ts';
import type { DiagnosticData } from './code-action.ts';

const severities = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information } as const;

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  const out: LspDiagnostic = {
    range: toLspRange(d.range),
    severity: severities[d.severity],
    code: d.code,
    source: 'hdc',
    message: d.detail ? `${d.summary}\n${d.detail}` : d.summary,
  };
  // "never run" and similar: the editor greys the name out.
  if (d.code === 'HDC2008') out.tags = [DiagnosticTag.Unnecessary];
  if (d.suggestions?.length) {
    const data: DiagnosticData = { suggestions: d.suggestions.map((s) => ({ replacement: s.replacement, range: toLspRange(s.range), ...(s.label ? { label: s.label } : {}) })) };
    out.data = data;
  }
  return out;
}

/** A project's check: its folder, its own files and the compiler's diagnostics. */
export interface ProjectCheck { dir: string; own: string[]; diagnostics: Diagnostic[] }

/**
 * Publishes per file: always for open documents (an empty list clears them and tells the client
 * the check ran), for other files of the project only when they have problems or just lost them.
 */
export class DiagnosticPublisher {
  private published = new Map<string, Set<string>>();

  constructor(
    private readonly connection: Connection,
    private readonly versionOf: (path: string) => number | undefined,
    /** Diagnostics from elsewhere shown with the compiler's (failing expectations of a test run). */
    private readonly extra: (path: string) => Diagnostic[] = () => [],
  ) {}

  publish(check: ProjectCheck): void {
    const byFile = new Map<string, LspDiagnostic[]>();
    for (const path of check.own) byFile.set(path, []);
    for (const d of [...check.diagnostics, ...check.own.flatMap((p) => this.extra(p))]) {
      // An imported file's own problems are shown by its project; here only the import line is.
      const list = byFile.get(d.file);
      if (list) list.push(toLspDiagnostic(d));
    }
    const before = this.published.get(check.dir) ?? new Set<string>();
    const now = new Set<string>();
    for (const [path, diagnostics] of byFile) {
      const version = this.versionOf(path);
      if (diagnostics.length) now.add(path);
      else if (version === undefined && !before.has(path)) continue;
      void this.connection.sendDiagnostics({ uri: pathToUri(path), diagnostics, ...(version !== undefined ? { version } : {}) });
    }
    for (const path of before) if (!byFile.has(path)) void this.connection.sendDiagnostics({ uri: pathToUri(path), diagnostics: [] });
    this.published.set(check.dir, now);
  }
}
