// Semantic tokens: what the TextMate grammar cannot know. HL7 paths and message types, FHIR
// resource types, and every declared name (where declared and where used) coloured by what it
// names: senders, APIs, auths and launches as classes, workflows, maps and transforms as
// functions, steps, fields and variables as variables.
import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import { walk } from '../../compiler/syntax/visit.ts';
import type { SymbolKind } from '../../compiler/semantics/symbols.ts';
import type { ProjectAnalysis } from '../analysis.ts';

const types = ['property', 'enumMember', 'type', 'class', 'function', 'variable'] as const;
type TokenType = (typeof types)[number];
export const semanticTokensLegend: SemanticTokensLegend = { tokenTypes: [...types], tokenModifiers: ['declaration'] };

const bySymbol: Record<SymbolKind, TokenType> = {
  sender: 'class', api: 'class', auth: 'class', launch: 'class', module: 'class', test: 'class',
  workflow: 'function', map: 'function', transform: 'function',
  step: 'variable', field: 'variable', variable: 'variable',
};

interface Token { range: A.Range; type: TokenType; declaration: boolean }

export function semanticTokens(analysis: ProjectAnalysis, file: A.SourceFile): SemanticTokens {
  const tokens: Token[] = [];
  const add = (range: A.Range, type: TokenType, declaration = false) => {
    // One line each (the protocol's tokens do not span lines); names and paths never do.
    if (range.start.line === range.end.line && range.end.offset > range.start.offset) tokens.push({ range, type, declaration });
  };
  walk(file, (n) => {
    if (n.kind === 'hl7path') add(n.range, 'property');
    if (n.kind === 'msgtype') add(n.range, 'enumMember');
    if ((n.kind === 'request' || n.kind === 'mock') && n.resourceType) add(n.resourceType.range, 'type');
  });
  const symbols = analysis.project.symbols;
  for (const d of symbols?.declarations ?? []) if (d.file === file.file && d.range.end.offset > 0) add(d.range, bySymbol[d.kind], true);
  for (const r of symbols?.references ?? []) if (r.file === file.file) add(r.range, bySymbol[r.target.kind]);
  tokens.sort((a, b) => a.range.start.offset - b.range.start.offset || b.range.end.offset - a.range.end.offset);
  const builder = new SemanticTokensBuilder();
  let end = -1;
  for (const t of tokens) {
    if (t.range.start.offset < end) continue; // overlapping: the first (widest) wins
    end = t.range.end.offset;
    builder.push(t.range.start.line - 1, t.range.start.col - 1, t.range.end.offset - t.range.start.offset, types.indexOf(t.type), t.declaration ? 1 : 0);
  }
  return builder.build();
}
