// Rename a declared name and every reference to it, across files and importing projects.
// The new name must be a plain name that is not already declared for the same kind.
import { ResponseError, ErrorCodes, type PrepareRenameParams, type Range, type RenameParams, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver';
import { keywordList } from '../../compiler/syntax/tokens.ts';
import { toLspRange } from '../ranges.ts';
import { relatedDeclarations, referencesTo, symbolUnderCursor } from '../symbol-at.ts';
import { pathToUri } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

// Statement keywords cannot name steps or variables: `if = search …` would not parse.
const reserved = new Set(keywordList);

export function prepareRename(ctx: ServerContext, params: PrepareRenameParams): { range: Range; placeholder: string } | null {
  const found = symbolUnderCursor(ctx, params);
  if (!found || found.hit.target.kind === 'test') return null;
  const { hit } = found;
  return { range: toLspRange(hit.range), placeholder: hit.target.name };
}

export function rename(ctx: ServerContext, params: RenameParams): WorkspaceEdit | null {
  const found = symbolUnderCursor(ctx, params);
  if (!found || found.hit.target.kind === 'test') return null;
  const { analysis, hit } = found;
  const name = params.newName;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ResponseError(ErrorCodes.InvalidParams, `"${name}" is not a valid name: use letters, digits and _ (not starting with a digit).`);
  if (reserved.has(name)) throw new ResponseError(ErrorCodes.InvalidParams, `"${name}" is a keyword of the language; choose another name.`);
  const targets = relatedDeclarations(analysis, hit.target);
  const clash = analysis.project.symbols.declarations.find(
    (d) => d.name === name && d.kind === hit.target.kind && d.container === hit.target.container,
  );
  if (clash) throw new ResponseError(ErrorCodes.InvalidParams, `${hit.target.kind} "${name}" already exists (${clash.file}:${clash.range.start.line}).`);
  const changes: Record<string, TextEdit[]> = {};
  const seen = new Set<string>();
  const edit = (file: string, range: typeof hit.range) => {
    const k = `${file}:${range.start.offset}`;
    if (seen.has(k)) return;
    seen.add(k);
    (changes[pathToUri(file)] ??= []).push({ range: toLspRange(range), newText: name });
  };
  for (const t of targets) edit(t.file, t.range);
  for (const r of referencesTo(ctx.analyzer, analysis, targets)) edit(r.file, r.range);
  return { changes };
}
