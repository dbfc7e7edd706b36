// Go to definition: from a name (or its declaration) to where the compiler declared it, in any file.
import type { DefinitionParams, Location } from 'vscode-languageserver';
import { toLspRange } from '../ranges.ts';
import { symbolAt } from '../symbol-at.ts';
import { pathToUri, uriToPath } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

export function definition(ctx: ServerContext, params: DefinitionParams): Location[] | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const path = uriToPath(params.textDocument.uri);
  const { analysis } = ctx.analyzer.forFile(path);
  const hit = symbolAt(analysis, path, doc.offsetAt(params.position));
  if (!hit) return null;
  return [{ uri: pathToUri(hit.target.file), range: toLspRange(hit.target.range) }];
}
