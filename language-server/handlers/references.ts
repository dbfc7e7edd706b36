// Find references: every use of the declared name under the cursor, across the projects that
// read its file (a shared auth.hdc imported by several folders).
import type { Location, ReferenceParams } from 'vscode-languageserver';
import { toLspRange } from '../ranges.ts';
import { relatedDeclarations, referencesTo, symbolAt } from '../symbol-at.ts';
import { pathToUri, uriToPath } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

export function references(ctx: ServerContext, params: ReferenceParams): Location[] | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const path = uriToPath(params.textDocument.uri);
  const { analysis } = ctx.analyzer.forFile(path);
  const hit = symbolAt(analysis, path, doc.offsetAt(params.position));
  if (!hit) return null;
  const targets = relatedDeclarations(analysis, hit.target);
  const out: Location[] = [];
  if (params.context.includeDeclaration) for (const t of targets) out.push({ uri: pathToUri(t.file), range: toLspRange(t.range) });
  for (const r of referencesTo(ctx.analyzer, analysis, targets)) out.push({ uri: pathToUri(r.file), range: toLspRange(r.range) });
  return out;
}
