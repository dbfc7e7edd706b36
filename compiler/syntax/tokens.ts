// The .hdc vocabulary. Keywords are reserved only where a statement starts; after a dot, as an
// object key, or as a setting name, every keyword is also a plain name (the `Name` category).
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Name = createToken({ name: 'Name', pattern: Lexer.NA });
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_$][A-Za-z0-9_$]*/, categories: [Name] });

const keywordNames = [
  'import', 'auth', 'api', 'sender', 'workflow', 'smart', 'launch', 'test',
  'match', 'fields', 'on', 'run', 'each', 'where', 'as',
  'if', 'else', 'for', 'in', 'let', 'store', 'send', 'reject', 'to', 'key', 'path',
  'read', 'search', 'create', 'update', 'delete', 'get', 'post', 'put', 'patch',
  'body', 'query', 'headers', 'pages', 'if_none_exist', 'message',
  'login', 'fetch', 'map', 'redirect', 'when', 'otherwise', 'with', 'require',
  'mock', 'step', 'returns', 'status', 'expect', 'ack', 'field', 'request', 'no', 'stored',
  'and', 'or', 'not', 'true', 'false', 'null', 'env', 'file',
  'transform', 'extends',
] as const;
export type Keyword = (typeof keywordNames)[number];

export const Keywords = Object.fromEntries(
  keywordNames.map((word) => [
    word,
    createToken({ name: 'Kw_' + word, pattern: new RegExp(word + '(?![A-Za-z0-9_$])'), longer_alt: Identifier, categories: [Name] }),
  ]),
) as Record<Keyword, TokenType>;

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\uFEFF]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: 'comments', line_breaks: true });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n\r]|\\.)*"/ });
export const Duration = createToken({ name: 'Duration', pattern: /\d+(?:ms|s|m|h|d)(?![A-Za-z0-9_])/ });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /\d+(?:\.\d+)?(?![A-Za-z_])/ });
/** ADT^A01, ADT^*, *^* — a message code and trigger event. */
// Triggers of one to four characters lex as message types so a slip (ORU^R011) is one checked
// "unknown trigger event" with a fix, not a cascade of lexer and setting errors.
export const MessageType = createToken({ name: 'MessageType', pattern: /(?:[A-Z][A-Z0-9]{2}|\*)\^(?:[A-Z0-9]{1,4}|\*)(?![A-Za-z0-9_])/ });
/** PID-3[*].4.1, OBX[2]-5 — an HL7 path with at least a field. */
export const Hl7PathToken = createToken({
  name: 'Hl7Path',
  pattern: /[A-Z][A-Z0-9]{2}(?:\[(?:\d+|\*)\])?-\d+(?:\[(?:\d+|\*)\])?(?:\.\d+){0,2}(?![A-Za-z0-9_])/,
});
/** .4 or .4.1 — a component (and subcomponent) of the current repetition. */
export const RelPath = createToken({ name: 'RelPath', pattern: /\.\d+(?:\.\d+)?(?![A-Za-z_])/ });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/ });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/ });
export const LtEq = createToken({ name: 'LtEq', pattern: /<=/ });
export const GtEq = createToken({ name: 'GtEq', pattern: />=/ });
export const Lt = createToken({ name: 'Lt', pattern: /</ });
export const Gt = createToken({ name: 'Gt', pattern: />/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });

export const allTokens: TokenType[] = [
  WhiteSpace, LineComment, BlockComment, StringLiteral,
  MessageType, Hl7PathToken, Duration, NumberLiteral, RelPath,
  Arrow, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Equals, Plus, Minus, Star, Dot, Comma, Colon,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket,
  ...Object.values(Keywords),
  Identifier, Name,
];

/** Never lexed: stands for the editor's cursor when the parser is asked what it expects there (expected.ts). */
export const Cursor = createToken({ name: 'Cursor', pattern: Lexer.NA });

export const hdcLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
export const keywordList: readonly string[] = keywordNames;
