// What the parser expects at a cursor: the text up to it is parsed with a Cursor token in its
// place, and the parser records every keyword and token kind it tests for there before it fails
// or moves on. Completion offers keywords from this, so what it offers and what the grammar
// accepts cannot drift apart.
import type { IToken, TokenType } from 'chevrotain';
import * as T from './tokens.ts';
import { Parser, type Probe } from './parser.ts';

export interface Expected {
  /** Keywords the grammar accepts at the cursor (module declaration words included at top level). */
  keywords: Set<string>;
  /** Any name fits there (an identifier, or a keyword used as a name). */
  name: boolean;
  /** Token kinds tested for (punctuation, literals, paths). */
  types: Set<TokenType>;
}

const keywordOf = new Map<TokenType, string>(Object.entries(T.Keywords).map(([word, type]) => [type, word]));

/**
 * Parses `text` from `from` (the start of a declaration, or 0) to `offset` and reports what may
 * come at `offset`.
 */
export function expectedAt(text: string, offset: number, from = 0): Expected {
  const slice = text.slice(from, offset);
  const lexed = T.hdcLexer.tokenize(slice);
  const last = lexed.tokens[lexed.tokens.length - 1];
  const cursor: IToken = {
    image: '', tokenType: T.Cursor, tokenTypeIdx: T.Cursor.tokenTypeIdx!, startOffset: slice.length, endOffset: slice.length,
    startLine: (last?.endLine ?? 1), startColumn: (last?.endColumn ?? 0) + 1, endLine: last?.endLine ?? 1, endColumn: last?.endColumn ?? 0,
  };
  const probe: Probe = { index: lexed.tokens.length, types: new Set(), words: new Set(), name: false, done: false };
  new Parser([...lexed.tokens, cursor], slice, '', probe).parseFile();
  const keywords = new Set(probe.words);
  for (const t of probe.types) {
    const word = keywordOf.get(t);
    if (word) keywords.add(word);
  }
  return { keywords, name: probe.name, types: probe.types };
}
