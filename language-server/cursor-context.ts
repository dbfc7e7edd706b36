// Where the cursor is, in terms completion can act on: the enclosing declaration (from the AST),
// the braces open around the cursor and the tokens of the statement being typed (from the
// compiler's own lexer). Text being typed is usually incomplete, which a parse tree cannot show;
// the lexer's tokens can, so the local context comes from them and everything else from the AST.
import type { IToken, TokenType } from 'chevrotain';
import * as T from '../compiler/syntax/tokens.ts';
import type * as A from '../compiler/syntax/ast.ts';

/** How a `{` was opened: what its items are. */
export type FrameKind =
  | 'decl' // the body of a declaration
  | 'fields' // a sender's fields block or an `each SEG { … }` group
  | 'stmts' // workflow/fetch/if/for bodies
  | 'settings' // a setting's nested block (identity client_cert { … }, tls { … }, login oidc { … })
  | 'redirect'
  | 'response' // a REST step's `response { … }` declaration, or an `each PATH { … }` in it
  | 'object'; // an object expression: keys and values

export interface Frame {
  kind: FrameKind;
  open: IToken;
  /** The statement tokens before the `{` (e.g. `search ehr Patient`, `identity client_cert`, `code:`). */
  head: IToken[];
  /** Objects: keys from the statement's object down to this one (`code`, `coding`). */
  keyPath: string[];
  /** Objects: the statement the outermost object belongs to (`search ehr Patient`, `create ehr Observation body`). */
  owner: IToken[];
}

export interface CursorContext {
  text: string;
  offset: number;
  decl?: A.Decl;
  /** Open braces around the cursor inside the declaration, outermost first. */
  frames: Frame[];
  /** Tokens of the statement being typed, before the word under the cursor. */
  statement: IToken[];
  /** The identifier-like text being typed just before the cursor. */
  word: string;
  wordStart: number;
  /** Text of the cursor's line before the cursor. */
  linePrefix: string;
  inComment: boolean;
  /** Inside a string: undefined when not; else whether inside a `{…}` interpolation, with its text before the cursor. */
  inString?: { interpolation?: string };
}

const isName = (t: IToken | undefined) => !!t && (t.tokenType === T.Identifier || t.tokenType.CATEGORIES?.includes(T.Name) === true);
export const tokenIs = (t: IToken | undefined, ...words: string[]): boolean => !!t && isName(t) && words.includes(t.image);
export const isType = (t: IToken | undefined, type: TokenType): boolean => !!t && t.tokenType === type;

export function cursorContext(file: A.SourceFile | undefined, text: string, offset: number): CursorContext {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const linePrefix = text.slice(lineStart, offset);
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(linePrefix)?.[0] ?? '';
  const wordStart = offset - word.length;
  const decl = file?.decls.find((d) => d.range.start.offset <= offset && (offset < d.range.end.offset || (offset === d.range.end.offset && !text.slice(0, offset).endsWith('}'))));
  const from = decl ? decl.range.start.offset : lineStart;
  const ctx: CursorContext = { text, offset, decl, frames: [], statement: [], word, wordStart, linePrefix, inComment: false };

  const slice = text.slice(from, wordStart);
  const lexed = T.hdcLexer.tokenize(slice);
  // In a comment: a line comment running up to the cursor, or a block comment the slice cuts open
  // (the lexer cannot match an unclosed `/*` and reports an error where it starts).
  const comments = (lexed.groups.comments ?? []) as IToken[];
  ctx.inComment =
    comments.some((c) => c.tokenType === T.LineComment && (c.endOffset ?? c.startOffset) + 1 === slice.length) ||
    lexed.errors.some((e) => slice.startsWith('/*', e.offset));
  if (ctx.inComment) return ctx;

  // A string still open on the cursor's line (strings never span lines).
  const openQuote = openStringAt(linePrefix);
  if (openQuote >= 0) {
    const inside = linePrefix.slice(openQuote + 1);
    const open = unclosedBrace(inside);
    ctx.inString = open >= 0 ? { interpolation: inside.slice(open + 1) } : {};
    return ctx;
  }

  const tokens = lexed.tokens.map((t) => shift(t, from));
  buildFrames(ctx, tokens, text);
  return ctx;
}

/** Index of the quote opening a string that is still open at the end of a line's prefix, or -1. */
function openStringAt(line: string): number {
  let open = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (open >= 0) {
      if (c === '\\') i++;
      else if (c === '"') open = -1;
    } else if (c === '"') open = i;
    else if (c === '/' && line[i + 1] === '/') return -1;
  }
  return open;
}

/** Index of the last `{` without its `}` in a string body (escapes `\{` skipped), or -1. */
function unclosedBrace(s: string): number {
  const stack: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') stack.push(i);
    else if (s[i] === '}') stack.pop();
  }
  return stack.length ? stack[stack.length - 1]! : -1;
}

const shift = (t: IToken, by: number): IToken => ({ ...t, startOffset: t.startOffset + by, endOffset: (t.endOffset ?? t.startOffset) + by });

function buildFrames(ctx: CursorContext, tokens: IToken[], text: string): void {
  const lineOf = (t: IToken) => t.startLine ?? 0;
  // Statement tokens at the current depth; a new line starts a new statement unless the line
  // before ended mid-expression (an operator, comma, colon or an open bracket).
  let statement: IToken[] = [];
  const continues = (prev: IToken | undefined) =>
    !!prev && [T.Comma, T.Colon, T.Equals, T.EqEq, T.NotEq, T.Lt, T.Gt, T.LtEq, T.GtEq, T.Plus, T.Minus, T.Arrow, T.LParen, T.LBracket].includes(prev.tokenType);
  const brackets: IToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = statement[statement.length - 1];
    if (prev && lineOf(t) > lineOf(prev) && !continues(prev) && brackets.length === 0) statement = [];
    // Object entries are separated by commas (or new lines): each entry is read on its own.
    if (t.tokenType === T.Comma && brackets.length === 0 && ctx.frames[ctx.frames.length - 1]?.kind === 'object') {
      statement = [];
      continue;
    }
    if (t.tokenType === T.LBrace) {
      ctx.frames.push(frameFor(ctx, statement, t));
      statement = [];
      continue;
    }
    if (t.tokenType === T.RBrace) {
      const closed = ctx.frames.pop();
      // After an object closes, its statement goes on (`search ehr Patient { … } pages 2`).
      statement = closed && closed.kind === 'object' ? [...closed.head, closed.open, t] : [];
      continue;
    }
    if (t.tokenType === T.LParen || t.tokenType === T.LBracket) brackets.push(t);
    if (t.tokenType === T.RParen || t.tokenType === T.RBracket) brackets.pop();
    statement.push(t);
  }
  const last = statement[statement.length - 1];
  const cursorLine = lineOfOffset(text, ctx.wordStart);
  if (last && (last.startLine ?? 0) + lineBase(ctx) < cursorLine && !continues(last)) statement = [];
  ctx.statement = statement;
}

/** Tokens were lexed from a slice; their lines count from the slice's first line. */
function lineBase(ctx: CursorContext): number {
  return ctx.decl ? ctx.decl.range.start.line - 1 : lineOfOffset(ctx.text, ctx.offset) - 1;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function frameFor(ctx: CursorContext, head: IToken[], open: IToken): Frame {
  const parent = ctx.frames[ctx.frames.length - 1];
  const first = head[0];
  const last = head[head.length - 1];
  const frame = (kind: FrameKind, keyPath: string[] = [], owner: IToken[] = []): Frame => ({ kind, open, head, keyPath, owner });
  if (!parent) return frame('decl');
  // Inside an object every brace is a nested object; remember the key it is the value of.
  if (parent.kind === 'object') {
    const key = isType(last, T.Colon) ? head[head.length - 2] : undefined;
    const keyText = key ? (key.tokenType === T.StringLiteral ? key.image.slice(1, -1) : key.image) : '';
    return frame('object', keyText ? [...parent.keyPath, keyText] : parent.keyPath, parent.owner);
  }
  if (parent.kind === 'fields') return frame('fields');
  if (parent.kind === 'response' || tokenIs(last, 'response')) return frame('response');
  if (tokenIs(first, 'fields')) return frame('fields');
  if (tokenIs(first, 'redirect') && head.length === 1) return frame('redirect');
  if (tokenIs(first, 'if', 'else', 'for', 'fetch') || (tokenIs(first, 'else') && tokenIs(head[1], 'if'))) {
    // `if cond {`: statements; but `x = search … { … }` objects are handled below.
    return frame('stmts');
  }
  if (parent.kind === 'stmts' || (parent.kind === 'decl' && (ctx.decl?.kind === 'workflow' || ctx.decl?.kind === 'test'))) return frame('object', [], head);
  if (parent.kind === 'decl' && ctx.decl?.kind === 'launch' && tokenIs(first, 'map')) return frame('object', [], head);
  if (parent.kind === 'redirect') return frame('object', [], head);
  if (tokenIs(first, 'require')) return frame('object', [], head);
  return frame('settings');
}
