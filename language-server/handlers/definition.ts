// Go to definition: from a name (or its declaration) to where the compiler declared it, in any file.
import type { DefinitionParams, Location } from 'vscode-languageserver';
import { toLspRange } from '../ranges.ts';
import { symbolUnderCursor } from '../symbol-at.ts';
import { pathToUri } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

export function definition(ctx: ServerContext, params: DefinitionParams): Location[] | null {
  const found = symbolUnderCursor(ctx, params);
  if (!found) return null;
  const { hit } = found;
  return [{ uri: pathToUri(hit.target.file), range: toLspRange(hit.target.range) }];
}
