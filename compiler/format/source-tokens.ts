// The token stream of a parsed file, indexed by offset, with matching braces. The AST keeps the
// range of each construct but not always of its `{ … }` body, and comments are placed by the
// body they fall in, so the formatter finds bodies from the tokens.
import type { IToken, TokenType } from 'chevrotain';
import { hdcLexer, LBrace, RBrace } from '../syntax/tokens.ts';

export interface Braces {
  /** Offset of `{`. */
  open: number;
  /** Offset just after the matching `}`. */
  close: number;
  /** Line of the `}`. */
  closeLine: number;
}

export class SourceTokens {
  readonly tokens: IToken[];
  /** For each `{` token index, the index of its `}`. */
  private readonly match = new Map<number, number>();
  /** For each token index, the index of the innermost `{` around it (-1 at file level). */
  private readonly enclosing: number[] = [];

  constructor(text: string) {
    this.tokens = hdcLexer.tokenize(text).tokens;
    const open: number[] = [];
    this.tokens.forEach((t, i) => {
      if (t.tokenType === RBrace) {
        const o = open.pop();
        if (o !== undefined) this.match.set(o, i);
      }
      this.enclosing.push(open.at(-1) ?? -1);
      if (t.tokenType === LBrace) open.push(i);
    });
  }

  /** Index of the first token starting at or after `offset`. */
  indexAt(offset: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid]!.startOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first token at or after `offset`, if it is of `type`. */
  tokenAt(offset: number, type: TokenType): IToken | undefined {
    const t = this.tokens[this.indexAt(offset)];
    return t?.tokenType === type ? t : undefined;
  }

  /** The last token that starts before `offset`. */
  tokenBefore(offset: number): IToken | undefined {
    return this.tokens[this.indexAt(offset) - 1];
  }

  /** The `{ … }` that opens at the first `{` token at or after `offset`. */
  bracesAfter(offset: number): Braces | undefined {
    for (let i = this.indexAt(offset); i < this.tokens.length; i++) {
      if (this.tokens[i]!.tokenType === LBrace) return this.bracesAt(i);
    }
    return undefined;
  }

  /** The innermost `{ … }` around the token that starts at `offset`, and the token before its `{`. */
  enclosingBraces(offset: number): { braces: Braces; before?: IToken } | undefined {
    const open = this.enclosing[this.indexAt(offset)] ?? -1;
    const braces = open < 0 ? undefined : this.bracesAt(open);
    return braces && { braces, before: this.tokens[open - 1] };
  }

  private bracesAt(open: number): Braces | undefined {
    const close = this.match.get(open);
    if (close === undefined) return undefined;
    const end = this.tokens[close]!;
    return { open: this.tokens[open]!.startOffset, close: end.startOffset + 1, closeLine: end.startLine ?? 1 };
  }
}
