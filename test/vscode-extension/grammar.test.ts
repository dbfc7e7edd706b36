// The TextMate grammar: scope assertions with vscode-tmgrammar-test, and a cross-check against the
// compiler's own lexer over every example — each string, comment, HL7 path, message type, number,
// duration and statement keyword the compiler sees must be highlighted as such.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { IToken, TokenType } from 'chevrotain';
import * as T from '../../compiler/syntax/tokens.ts';
import { findHdcFiles } from '../../compiler/api.ts';
import { grammarPath, tokenize, type ScopedToken } from './textmate.ts';

const root = new URL('../..', import.meta.url).pathname;

test('scope assertions (vscode-tmgrammar-test)', () => {
  const cli = join(root, 'node_modules/vscode-tmgrammar-test/dist/unit.js');
  const r = spawnSync(process.execPath, [cli, '-g', grammarPath, 'test/vscode-extension/grammar/*.hdc'], { cwd: root, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, 'declarations.hdc run successfuly');
  assert.match(r.stdout, 'workflows.hdc run successfuly');
});

// What each compiler token must be scoped as (a prefix of one of the TextMate token's scopes).
const expected = new Map<TokenType, string>([
  [T.StringLiteral, 'string.quoted.double.hdc'],
  [T.LineComment, 'comment.line'],
  [T.BlockComment, 'comment.block'],
  [T.MessageType, 'constant.other.message-type.hdc'],
  [T.Hl7PathToken, 'support.variable.hl7-path.hdc'],
  [T.Duration, 'constant.numeric.duration.hdc'],
  [T.NumberLiteral, 'constant.numeric'],
  [T.EqEq, 'keyword.operator.comparison'],
  [T.NotEq, 'keyword.operator.comparison'],
  [T.Arrow, 'keyword.operator.select'],
]);
const declarationKeywords = new Map([['auth', 'storage.type.auth'], ['api', 'storage.type.api'], ['sender', 'storage.type.sender'], ['workflow', 'storage.type.workflow'], ['smart', 'storage.type.smart'], ['test', 'storage.type.test'], ['import', 'keyword.control.import']]);
const statementKeywords = ['if', 'else', 'for', 'let', 'store', 'send', 'reject', 'match', 'fields', 'on', 'fetch', 'redirect', 'when', 'otherwise', 'mock', 'expect'];
const verbs = ['search', 'read', 'create', 'update', 'get', 'post', 'put', 'patch'];

function scopeAt(tokens: ScopedToken[], line: number, col: number): string[] {
  return tokens.find((t) => t.line === line && t.startCol <= col && col < t.endCol)?.scopes ?? [];
}

const sources = () => [...findHdcFiles([join(root, 'examples')]), ...findHdcFiles([join(root, 'test/vscode-extension/grammar')])];

test('the examples exist to check', () => {
  assert.ok(sources().length >= 3, sources().join(', '));
});

test('every token the compiler lexes is highlighted as the same kind of thing', async () => {
  const problems: string[] = [];
  let checked = 0;
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    const scoped = await tokenize(text);
    const lexed = T.hdcLexer.tokenize(text);
    const all: IToken[] = [...lexed.tokens, ...((lexed.groups.comments ?? []) as IToken[])];
    const lineStarts = new Set<number>();
    let lastLine = 0;
    for (const t of lexed.tokens) {
      if (t.startLine !== lastLine) lineStarts.add(t.startOffset);
      lastLine = t.startLine ?? 0;
    }
    for (const t of all) {
      let want = expected.get(t.tokenType);
      const first = lineStarts.has(t.startOffset);
      if (!want && first && declarationKeywords.has(t.image) && t.startColumn === 1) want = declarationKeywords.get(t.image);
      if (!want && first && statementKeywords.includes(t.image)) want = 'keyword.';
      if (!want && verbs.includes(t.image) && t.tokenType !== T.Identifier && !first) want = 'keyword.other.request.hdc';
      if (!want && t.tokenType === T.RelPath && /\s/.test(text[t.startOffset - 1] ?? '')) want = 'support.variable.hl7-component.hdc';
      if (!want) continue;
      const scopes = scopeAt(scoped, t.startLine!, t.startColumn!);
      checked++;
      if (!scopes.some((s) => s.startsWith(want!))) problems.push(`${relative(root, file)}:${t.startLine}:${t.startColumn} ${JSON.stringify(t.image)} wants ${want}, has ${scopes.join(' ')}`);
    }
  }
  assert.ok(checked > 200, `checked ${checked} tokens`);
  assert.equal(problems, []);
});

test('the grammar knows every setting name the compiler accepts', async () => {
  const S = await import('../../compiler/semantics/settings.ts');
  const keys = new Set<string>();
  const add = (spec: Record<string, { block?: Record<string, unknown> }>) => {
    for (const [k, v] of Object.entries(spec)) {
      keys.add(k);
      if (v.block) add(v.block as never);
    }
  };
  for (const s of Object.values(S.authSpecs)) add(s);
  for (const s of Object.values(S.loginSpecs)) add(s);
  [S.apiSpec, S.identitySpec, S.senderSpec, S.workflowSpec, S.launchSpec].forEach(add);
  const grammar = readFileSync(grammarPath, 'utf8');
  // Keys that are also statement keywords (key, path, query) are highlighted as keywords instead.
  const missing = [...keys].filter((k) => !['key', 'path', 'query'].includes(k) && !new RegExp(`[|(]${k}[|)]`).test(grammar));
  assert.equal(missing, []);
});

test.run();
