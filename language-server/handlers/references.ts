// Find references: every use of the declared name under the cursor, across the projects that
// read its file (a shared auth.hdc imported by several folders).
import type { Location, ReferenceParams } from 'vscode-languageserver';
import { toLspRange } from '../ranges.ts';
import { relatedDeclarations, referencesTo, symbolUnderCursor } from '../symbol-at.ts';
import { pathToUri } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

export function references(ctx: ServerContext, params: ReferenceParams): Location[] | null {
  const found = symbolUnderCursor(ctx, params);
  if (!found) return null;
  const { analysis, hit } = found;
  const targets = relatedDeclarations(analysis, hit.target);
  const out: Location[] = [];
  if (params.context.includeDeclaration) for (const t of targets) out.push({ uri: pathToUri(t.file), range: toLspRange(t.range) });
  for (const r of referencesTo(ctx.analyzer, analysis, targets)) out.push({ uri: pathToUri(r.file), range: toLspRange(r.range) });
  return out;
}
