// Workspace symbols: the declarations of every .hdc file under the workspace folders (open
// documents as edited), from each file's parse alone, filtered by the query's letters in order.
import { SymbolKind, type WorkspaceSymbol } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import { toLspRange } from '../ranges.ts';
import { pathToUri } from '../workspace.ts';

const kinds: Record<string, SymbolKind> = {
  auth: SymbolKind.Key, api: SymbolKind.Interface, sender: SymbolKind.Class, workflow: SymbolKind.Function,
  launch: SymbolKind.Event, test: SymbolKind.Method, map: SymbolKind.Enum, module: SymbolKind.Module,
};

/** "adm" matches "admit_patient": the query's letters appear in order, case-insensitively. */
export function matchesQuery(name: string, query: string): boolean {
  const n = name.toLowerCase();
  let i = 0;
  for (const ch of query.toLowerCase()) {
    i = n.indexOf(ch, i);
    if (i < 0) return false;
    i++;
  }
  return true;
}

export function workspaceSymbols(files: A.SourceFile[], query: string): WorkspaceSymbol[] {
  const out: WorkspaceSymbol[] = [];
  for (const f of files) {
    for (const d of f.decls) {
      if (d.kind === 'import' || d.kind === 'store_decl') continue;
      const name = d.kind === 'test' ? d.name.value : d.kind === 'module' ? (d.name ?? d.keyword).name : d.name.name;
      if (!name || !matchesQuery(name, query)) continue;
      out.push({ name, kind: kinds[d.kind] ?? SymbolKind.Object, containerName: d.kind === 'launch' ? 'smart launch' : d.kind, location: { uri: pathToUri(f.file), range: toLspRange(d.range) } });
    }
  }
  return out;
}
