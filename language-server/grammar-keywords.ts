// Keywords in completion follow the parser's expectations at the cursor (compiler/syntax/expected.ts):
// where the grammar takes only certain words (after `for`, after a field's path, in a test), the
// keywords offered are exactly those; at the start of a statement the grammar's statement words
// are offered too. Where any name fits, the lists built from the project and the specs stand.
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import { keywordList } from '../compiler/syntax/tokens.ts';
import type { Expected } from '../compiler/syntax/expected.ts';
import { keywordItems } from './completion-sources.ts';

const reserved = new Set(keywordList);
const isKeywordItem = (i: CompletionItem) => i.kind === CompletionItemKind.Keyword && reserved.has(i.label);

export function withGrammarKeywords(items: CompletionItem[], expected: Expected, statementStart: boolean): CompletionItem[] {
  if (expected.keywords.size === 0 && !expected.name) return items;
  const closed = !expected.name;
  const kept = closed ? items.filter((i) => !isKeywordItem(i) || expected.keywords.has(i.label)) : items;
  if (!closed && !statementStart) return kept;
  const present = new Set(kept.map((i) => i.label));
  const added = [...expected.keywords].filter((w) => !present.has(w));
  return [...kept, ...keywordItems(added, 2)];
}
