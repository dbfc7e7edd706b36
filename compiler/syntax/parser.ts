// Recursive-descent parser over chevrotain's tokens. Hand-written rather than generated so that
// each error says what was expected *in this construct* with a fix hint, and so recovery is
// statement-precise: an error skips to the next statement of the same block, never further,
// which gives many useful diagnostics per run and a usable tree for the language server.
import type { IToken, TokenType } from 'chevrotain';
import * as T from './tokens.ts';
import type * as A from './ast.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { parseHl7Path } from './hl7-path.ts';
import { moduleDeclaration, moduleSpecs } from '../specs/module-spec.ts';
import type { SettingsSpec } from '../specs/settings.ts';
import { fhirVerbs, httpVerbs, statementStarts, statements } from '../specs/statements.ts';

/** The words a file's declarations start with, for the parser's "expected" message. */
const declarationWords = () => [...statements.filter((x) => x.in === 'file').map((x) => x.keyword), ...moduleSpecs().flatMap((m) => m.declarations.map((d) => d.keyword))];

const K = T.Keywords;
const nameTypes = new Set<TokenType>([T.Identifier, ...Object.values(K)]);
const isName = (t: IToken | undefined): boolean => !!t && nameTypes.has(t.tokenType);
/** A plain name that starts a module's declaration (registered by the module's spec). */
const isModuleKeyword = (t: IToken | undefined): boolean => !!t && t.tokenType === T.Identifier && moduleDeclaration(t.image) !== undefined;

export interface ParseResult { ast: A.SourceFile; diagnostics: Diagnostic[] }

export function parse(text: string, file: string): ParseResult {
  const lexed = T.hdcLexer.tokenize(text);
  const p = new Parser(lexed.tokens, text, file);
  for (const e of lexed.errors) {
    const start = { line: e.line ?? 1, col: e.column ?? 1, offset: e.offset };
    p.diagnostics.push({
      code: 'HDC1003', severity: 'error', file,
      summary: `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + e.length))}`,
      detail: 'Remove it, or put it inside a "string". Comments start with // or /*.',
      range: { start, end: { line: start.line, col: start.col + e.length, offset: e.offset + e.length } },
    });
  }
  const comments: A.Comment[] = (lexed.groups.comments ?? []).map((t: IToken) => ({
    kind: 'comment', text: t.image, block: t.tokenType === T.BlockComment, range: tokenRange(t),
  }));
  const decls = p.parseFile();
  const end = positionAt(text, text.length);
  return {
    ast: { kind: 'source', file, text, decls, comments, range: { start: { line: 1, col: 1, offset: 0 }, end } },
    diagnostics: p.diagnostics,
  };
}

export function positionAt(text: string, offset: number): A.Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1, offset };
}

export function tokenRange(t: IToken): A.Range {
  return {
    start: { line: t.startLine ?? 1, col: t.startColumn ?? 1, offset: t.startOffset },
    end: { line: t.endLine ?? 1, col: (t.endColumn ?? 0) + 1, offset: (t.endOffset ?? t.startOffset) + 1 },
  };
}
const span = (a: A.Range, b: A.Range): A.Range => ({ start: a.start, end: b.end });

class SyntaxError extends Error {}

/** What the parser tested for at the cursor token (expected.ts), until it failed or moved past it. */
export interface Probe { index: number; types: Set<TokenType>; words: Set<string>; name: boolean; done: boolean }

export class Parser {
  pos = 0;
  diagnostics: Diagnostic[] = [];
  private lastToken: IToken | undefined;
  constructor(private tokens: IToken[], private text: string, private file: string, private probe?: Probe) {}

  // ---- token helpers ----
  private peek(k = 0): IToken | undefined { return this.tokens[this.pos + k]; }
  /** True when the token k ahead is the cursor the probe asks about (and it is still listening). */
  private atProbe(k = 0): boolean { return !!this.probe && !this.probe.done && !this.recovering && this.pos + k === this.probe.index; }
  /** Skipping tokens after an error: what is tested then is not what the construct expects. */
  private recovering = false;
  private is(type: TokenType, k = 0): boolean {
    if (this.atProbe(k)) this.probe!.types.add(type);
    return this.peek(k)?.tokenType === type;
  }
  /** A name (identifier or keyword used as one) k tokens ahead. */
  private nameAt(k = 0): boolean {
    if (this.atProbe(k)) this.probe!.name = true;
    return isName(this.peek(k));
  }
  /** Records, at the cursor, the tokens a dispatch on the next token's type accepts. */
  private offer(types: Iterable<TokenType>, words: Iterable<string> = []): void {
    if (!this.atProbe()) return;
    for (const t of types) this.probe!.types.add(t);
    for (const w of words) this.probe!.words.add(w);
  }
  private next(): IToken {
    if (this.pos >= this.tokens.length) this.fail('more input', 'The file ends in the middle of a construct: complete it.');
    if (this.atProbe()) this.probe!.done = true;
    const t = this.tokens[this.pos++];
    this.lastToken = t;
    return t;
  }
  private eat(type: TokenType): IToken | undefined { return this.is(type) ? this.next() : undefined; }
  private prevEnd(): A.Range { return this.lastToken ? tokenRange(this.lastToken) : this.eofRange(); }
  private eofRange(): A.Range {
    const end = positionAt(this.text, this.text.length);
    return { start: end, end };
  }
  private here(): A.Range { const t = this.peek(); return t ? tokenRange(t) : this.eofRange(); }
  private describe(t: IToken | undefined): string {
    if (!t) return 'end of file';
    return t.tokenType === T.StringLiteral ? 'a string' : JSON.stringify(t.image);
  }
  private fail(expected: string, hint: string, range = this.here()): never {
    if (this.probe && this.pos >= this.probe.index) this.probe.done = true;
    this.diagnostics.push({
      code: 'HDC1001', severity: 'error', file: this.file,
      summary: `expected ${expected}, found ${this.describe(this.peek())}`,
      detail: hint, range,
    });
    throw new SyntaxError();
  }
  private expect(type: TokenType, expected: string, hint: string): IToken {
    return this.eat(type) ?? this.fail(expected, hint);
  }
  private name(what: string, hint = `Write ${what} here.`): A.Ident {
    const t = this.peek();
    if (!this.nameAt()) this.fail(what, hint);
    this.next();
    return { kind: 'ident', name: t!.image, range: tokenRange(t!) };
  }
  private isKw(word: T.Keyword, k = 0): boolean { return this.is(K[word], k); }

  /** Skip to the start of the next statement in the current block (or its closing brace). */
  private recover(startsStatement: (t: IToken, index: number) => boolean): void {
    this.recovering = true;
    try {
      this.skip(startsStatement);
    } finally {
      this.recovering = false;
    }
  }
  private skip(startsStatement: (t: IToken, index: number) => boolean): void {
    let depth = 0;
    const startLine = this.peek()?.startLine;
    if (this.pos < this.tokens.length && !this.is(T.RBrace)) this.next();
    while (this.pos < this.tokens.length) {
      const t = this.peek()!;
      if (t.tokenType === T.LBrace) depth++;
      else if (t.tokenType === T.RBrace) {
        if (depth === 0) return;
        depth--;
      } else if (depth === 0 && t.startLine !== startLine && startsStatement(t, this.pos)) return;
      this.next();
    }
  }

  /** `{ item* }` with per-item recovery. */
  private block<R>(what: string, item: () => R | undefined, startsItem: (t: IToken, index: number) => boolean): { items: R[]; range: A.Range } {
    const open = this.expect(T.LBrace, '"{"', `A ${what} body is written between { and }.`);
    const items: R[] = [];
    while (this.pos < this.tokens.length && !this.is(T.RBrace)) {
      // A stray "{" where an item starts: one diagnostic and a fix that deletes it, instead of a
      // block that swallows the rest of the enclosing one.
      if (this.is(T.LBrace)) {
        const brace = this.next();
        const stray = tokenRange(brace);
        // The fix takes the spaces after the brace too: `{ store` becomes `store`.
        const after = this.peek();
        const removed = after && after.startLine === brace.startLine ? { start: stray.start, end: positionAt(this.text, after.startOffset) } : stray;
        this.diagnostics.push({
          code: 'HDC1010', severity: 'error', file: this.file, range: stray,
          summary: `stray "{" in the ${what}`,
          detail: `A ${what} holds ${what === 'workflow' || what.endsWith('body') ? 'statements' : 'items'}, not a block of its own: remove the "{".`,
          suggestions: [{ replacement: '', range: removed, label: 'remove "{"' }],
        });
        continue;
      }
      const before = this.pos;
      try {
        const r = item();
        if (r !== undefined) items.push(r);
        this.eat(T.Comma);
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        if (this.pos === before || !this.is(T.RBrace)) this.recover(startsItem);
      }
    }
    const close = this.eat(T.RBrace);
    if (!close) {
      // The "}" an inner block took was written for an outer one (it is indented less than the
      // line that opened the inner block): the inner block is the one missing its "}".
      const inner = this.borrowedCloses.find((b) => b.open.startOffset > open.startOffset);
      this.borrowedCloses = this.borrowedCloses.filter((b) => b.open.startOffset < open.startOffset);
      if (inner) {
        this.diagnostics.push({
          code: 'HDC1002', severity: 'error', file: this.file,
          summary: `unterminated ${inner.what}: missing "}"`,
          detail: `Add "}" to close the ${inner.what} opened here (the "}" on line ${inner.close.startLine} closes the ${what}).`,
          range: tokenRange(inner.open), suggestions: [this.closingBraceFix(inner.open, inner.close)],
        });
      } else {
        this.diagnostics.push({
          code: 'HDC1002', severity: 'error', file: this.file,
          summary: `unterminated ${what}: missing "}"`,
          detail: `Add "}" to close the ${what} opened here.`, range: tokenRange(open),
        });
      }
      return { items, range: span(tokenRange(open), this.eofRange()) };
    }
    if (close.startColumn! - 1 < this.indentOf(open.startOffset)) this.borrowedCloses.push({ open, close, what });
    return { items, range: span(tokenRange(open), tokenRange(close)) };
  }

  /** Blocks whose "}" is indented less than the line that opened them (suspects when an outer block ends unclosed). */
  private borrowedCloses: Array<{ open: IToken; close: IToken; what: string }> = [];

  /** Leading spaces of the line holding offset. */
  private indentOf(offset: number): number {
    const start = this.text.lastIndexOf('\n', offset - 1) + 1;
    let i = start;
    while (this.text[i] === ' ' || this.text[i] === '\t') i++;
    return i - start;
  }

  /** Inserts "}" before the first line after open that is indented no deeper than open's line. */
  private closingBraceFix(open: IToken, close: IToken): { replacement: string; range: A.Range } {
    const indent = this.indentOf(open.startOffset);
    let at = this.text.indexOf('\n', open.startOffset) + 1;
    while (at > 0 && at < close.startOffset) {
      const end = this.text.indexOf('\n', at);
      const line = this.text.slice(at, end < 0 ? undefined : end);
      if (line.trim() && this.indentOf(at) <= indent) break;
      if (end < 0) break;
      at = end + 1;
    }
    if (at <= 0 || at > close.startOffset) at = this.text.lastIndexOf('\n', close.startOffset - 1) + 1;
    const pos = positionAt(this.text, at);
    return { replacement: `${this.text.slice(this.text.lastIndexOf('\n', open.startOffset - 1) + 1).slice(0, indent)}}\n`, range: { start: pos, end: pos } };
  }

  // ---- file ----
  parseFile(): A.Decl[] {
    const decls: A.Decl[] = [];
    const startsDecl = (t: IToken) => Parser.declStarts.includes(t.tokenType) || isModuleKeyword(t);
    while (this.pos < this.tokens.length) {
      const before = this.pos;
      try {
        decls.push(this.decl());
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        if (this.pos === before) this.next();
        while (this.pos < this.tokens.length && !startsDecl(this.peek()!)) this.next();
      }
    }
    return decls;
  }

  private static declStarts = [K.import, K.auth, K.api, K.sender, K.workflow, K.smart, K.test, K.map, K.transform, K.store];
  private decl(): A.Decl {
    const t = this.peek()!;
    this.offer(Parser.declStarts, moduleSpecs().flatMap((m) => m.declarations.map((d) => d.keyword)));
    switch (t.tokenType) {
      case K.import: {
        this.next();
        const path = this.string('the file to import', 'Write: import "other.hdc"');
        return { kind: 'import', path, range: span(tokenRange(t), path.range) };
      }
      case K.auth: return this.authDecl();
      case K.api: return this.apiDecl();
      case K.sender: return this.senderDecl();
      case K.workflow: return this.workflowDecl();
      case K.smart: return this.launchDecl();
      case K.test: return this.testDecl();
      case K.map: return this.mapDecl();
      case K.transform: return this.transformDecl();
      case K.store: return this.storeDecl();
      default:
        if (isModuleKeyword(t)) return this.moduleDecl();
        return this.fail('a declaration', `A file holds ${declarationWords().join(', ').replace(/, ([^,]+)$/, ' and $1')} blocks.`);
    }
  }

  private string(what: string, hint: string): A.StringLit {
    const t = this.peek();
    if (t?.tokenType !== T.StringLiteral) this.fail(what, hint);
    this.next();
    return { kind: 'string', value: this.unquote(t!, false), raw: t!.image, range: tokenRange(t!) };
  }

  private unquote(t: IToken, template: boolean): string {
    const body = t.image.slice(1, -1);
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c !== '\\') { out += c; continue; }
      const n = body[++i];
      const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', '{': template ? '\u0000{' : '{', '}': '}' };
      if (n in map) out += map[n];
      else {
        this.diagnostics.push({
          code: 'HDC1004', severity: 'error', file: this.file,
          summary: `unknown escape "\\${n}" in a string`,
          detail: 'Strings know \\n \\r \\t \\" \\\\ \\{ and \\}. Write \\\\ for a backslash (HL7 escapes like \\F\\ need \\\\F\\\\).',
          range: this.subRange(t, i, i + 1),
        });
        out += n ?? '';
      }
    }
    return out;
  }

  /** Range of characters [from, to) of a string token's body (after the opening quote). */
  private subRange(t: IToken, from: number, to: number): A.Range {
    const line = t.startLine ?? 1;
    const col = (t.startColumn ?? 1) + 1;
    const off = t.startOffset + 1;
    return { start: { line, col: col + from, offset: off + from }, end: { line, col: col + to, offset: off + to } };
  }

  // ---- settings ----
  private atom(): A.Atom {
    const t = this.peek();
    const r = t ? tokenRange(t) : this.eofRange();
    this.offer([K.env, K.file]);
    switch (t?.tokenType) {
      case T.StringLiteral: return this.string('a string', '');
      case T.NumberLiteral: this.next(); return { kind: 'number', value: Number(t.image), range: r };
      case T.Duration: this.next(); return { kind: 'duration', ms: durationMs(t.image), text: t.image, range: r };
      case T.MessageType: { this.next(); const [code, trigger] = t.image.split('^'); return { kind: 'msgtype', code, trigger, text: t.image, range: r }; }
      case T.Star: this.next(); return { kind: 'star', range: r };
      case T.Hl7PathToken: return this.hl7Path();
      case K.env: return this.envCall();
      case K.file: return this.fileCall();
      default:
        if (this.nameAt()) { this.next(); return { kind: 'name', name: t!.image, range: r }; }
        return this.fail('a value', 'A setting takes a string, number, duration (10s), name, env("NAME") or file("path").');
    }
  }
  private startsAtom(t: IToken | undefined, first: boolean): boolean {
    if (t && t === this.peek() && this.atProbe()) {
      this.offer([T.StringLiteral, T.NumberLiteral, T.Duration, T.MessageType, T.Star, T.Hl7PathToken, K.env, K.file]);
      if (first) this.probe!.name = true;
    }
    if (!t) return false;
    if (isName(t)) return first || t.tokenType === K.env || t.tokenType === K.file;
    return [T.StringLiteral, T.NumberLiteral, T.Duration, T.MessageType, T.Star, T.Hl7PathToken].includes(t.tokenType);
  }
  private hl7Path(): A.Atom & { kind: 'hl7path' } {
    const t = this.next();
    const parsed = parseHl7Path(t.image);
    if ('error' in parsed) {
      this.diagnostics.push({
        code: 'HDC1005', severity: 'error', file: this.file, summary: `invalid HL7 path ${t.image}: ${parsed.error}`,
        detail: 'HL7 paths read SEG[rep]-FIELD[rep].COMPONENT.SUBCOMPONENT, e.g. PID-3[*].4.1 or OBX[2]-5.', range: tokenRange(t),
      });
      return { kind: 'hl7path', path: { text: t.image, segment: t.image.slice(0, 3) }, range: tokenRange(t) };
    }
    return { kind: 'hl7path', path: parsed.path, range: tokenRange(t) };
  }
  private envCall(): A.EnvCall {
    const kw = this.next();
    this.expect(T.LParen, '"("', 'Write env("NAME") or env("NAME", "default").');
    const name = this.string('the variable name', 'Write env("NAME").');
    const dflt = this.eat(T.Comma) ? this.string('a default value', 'The default is a string: env("PORT", "8443").') : undefined;
    const close = this.expect(T.RParen, '")"', 'Close env( with ).');
    return { kind: 'env', name, default: dflt, range: span(tokenRange(kw), tokenRange(close)) };
  }
  private fileCall(): A.FileCall {
    const kw = this.next();
    this.expect(T.LParen, '"("', 'Write file("path") or file(env("PATH_VAR")).');
    const path = this.is(K.env) ? this.envCall() : this.string('a path', 'Write file("path") or file(env("PATH_VAR")).');
    const close = this.expect(T.RParen, '")"', 'Close file( with ).');
    return { kind: 'file', path, range: span(tokenRange(kw), tokenRange(close)) };
  }

  /**
   * `key atom (, atom | non-name atom)* { settings }?`. In a module block, a `words` setting also
   * takes names after names on its line (`on Patient run upsert_patient`).
   */
  private setting(spec?: SettingsSpec): A.Setting {
    const key = this.name('a setting name');
    const values: A.Atom[] = [];
    const words = spec?.[key.name]?.kind === 'words';
    if (this.startsAtom(this.peek(), true) && this.peek()!.startLine === key.range.start.line) {
      values.push(this.atom());
      for (;;) {
        if (this.eat(T.Comma)) values.push(this.atom());
        else if (this.startsAtom(this.peek(), words) && this.peek()!.startLine === this.prevEnd().end.line) values.push(this.atom());
        else break;
      }
    }
    let block: A.Setting[] | undefined;
    let end = values.length ? values[values.length - 1].range : key.range;
    if (this.is(T.LBrace)) {
      const b = this.block('settings block', () => this.setting(), isName);
      block = b.items;
      end = b.range;
    }
    return { kind: 'setting', key, values, block, range: span(key.range, end) };
  }

  /** `KEYWORD [NAME] [from NAME] { settings }`: a module's declaration, read with the generic setting parser. */
  private moduleDecl(): A.ModuleDecl {
    const kw = this.next();
    const keyword: A.Ident = { kind: 'ident', name: kw.image, range: tokenRange(kw) };
    const spec = moduleDeclaration(kw.image)!.declaration;
    const usage = `Write: ${kw.image}${spec.name === 'none' ? '' : ' NAME'}${spec.from ? ` from ${spec.from.toUpperCase()}` : ''} { … }`;
    const d: A.ModuleDecl = { kind: 'module', keyword, settings: [], range: keyword.range };
    if (spec.name === 'required' || (spec.name === 'optional' && this.nameAt() && this.peek()!.image !== 'from')) d.name = this.name(`the ${kw.image} name`, usage);
    if (this.peek()?.image === 'from' && spec.from) {
      this.next();
      d.from = this.name(`the ${spec.from} it reads from`, usage);
    }
    const b = this.block(`${kw.image} block`, () => this.setting(spec.settings), isName);
    d.settings = b.items;
    d.range = span(keyword.range, b.range);
    return d;
  }

  private authDecl(): A.AuthDecl {
    const kw = this.next();
    const name = this.name('the auth name', 'Write: auth NAME basic|oauth2|smart_backend|bearer { … }');
    const authKind = this.name('the auth kind', 'One of basic, oauth2, smart_backend, bearer.');
    const b = this.block('auth block', () => this.setting(), isName);
    return { kind: 'auth', name, authKind, settings: b.items, range: span(tokenRange(kw), b.range) };
  }

  private apiDecl(): A.ApiDecl {
    const kw = this.next();
    const name = this.name('the API name', 'Write: api NAME fhir|rest|hl7 "https://base" { … }');
    const apiKind = this.name('the API kind', 'One of fhir, rest, hl7.');
    const baseUrl = this.atom();
    let settings: A.Setting[] = [];
    let end = baseUrl.range;
    if (this.is(T.LBrace)) {
      const b = this.block('api block', () => this.setting(), isName);
      settings = b.items;
      end = b.range;
    }
    return { kind: 'api', name, apiKind, baseUrl, settings, range: span(tokenRange(kw), end) };
  }

  // ---- sender ----
  private senderDecl(): A.SenderDecl {
    const kw = this.next();
    const name = this.name('the sender name', 'Write: sender NAME { path "/hl7/NAME" … }');
    const decl: A.SenderDecl = { kind: 'sender', name, settings: [], matches: [], fields: [], routes: [], range: tokenRange(kw) };
    const b = this.block('sender block', () => {
      if (this.isKw('match')) decl.matches.push(this.matchClause());
      else if (this.isKw('fields')) {
        const f = this.next();
        const fb = this.block('fields block', () => this.fieldDecl(), isName);
        decl.fields.push(...fb.items);
        decl.fieldsRange = span(tokenRange(f), fb.range);
      } else if (this.isKw('on')) decl.routes.push(this.route());
      else decl.settings.push(this.setting());
      return undefined;
    }, isName);
    decl.range = span(tokenRange(kw), b.range);
    return decl;
  }

  private matchClause(): A.MatchClause {
    const kw = this.next();
    if (!this.is(T.Hl7PathToken)) this.fail('an HL7 path', 'Write: match MSH-4.1 == "LABCORP" (or != , or in ["A", "B"]).');
    const path = this.hl7Path();
    let op: '==' | '!=' = '==';
    const values: A.StringLit[] = [];
    if (this.eat(T.EqEq)) values.push(this.string('a string', 'Compare to a quoted value: match MSH-4.1 == "LABCORP".'));
    else if (this.eat(T.NotEq)) { op = '!='; values.push(this.string('a string', 'Compare to a quoted value.')); }
    else if (this.eat(K.in) || (this.isKw('not') && this.isKw('in', 1) && (op = '!=') && this.next() && this.next())) {
      this.expect(T.LBracket, '"["', 'Write: match MSH-4.1 in ["A", "B"].');
      do values.push(this.string('a string', 'List quoted values.'));
      while (this.eat(T.Comma));
      this.expect(T.RBracket, '"]"', 'Close the list with ].');
    } else this.fail('==, != or in', 'Write: match MSH-4.1 == "LABCORP".');
    return { kind: 'match', path, op, values, range: span(tokenRange(kw), this.prevEnd()) };
  }

  private route(): A.RouteDecl {
    const kw = this.next();
    const types: A.RouteDecl['types'] = [];
    do {
      const a = this.atom();
      if (a.kind !== 'msgtype' && a.kind !== 'star') this.fail('a message type', 'Write: on ADT^A01, ADT^A04 run admit', a.range);
      types.push(a);
    } while (this.eat(T.Comma));
    this.expect(K.run, '"run"', 'Write: on ADT^A01 run WORKFLOW');
    const workflow = this.name('a workflow name');
    return { kind: 'route', types, workflow, range: span(tokenRange(kw), workflow.range) };
  }

  private fieldDecl(): A.FieldDecl {
    const name = this.name('a field name', 'Write: name = PID-5.1');
    this.expect(T.Equals, '"="', `Write: ${name.name} = PID-5.1`);
    if (this.isKw('each')) {
      this.next();
      const seg = this.name('a segment', 'Write: results = each OBX { value = OBX-5 }');
      const b = this.block('group', () => this.fieldDecl(), isName);
      return { kind: 'field', name, each: seg, fields: b.items, range: span(name.range, b.range) };
    }
    if (!this.is(T.Hl7PathToken)) this.fail('an HL7 path', 'A field maps an HL7 path: PID-5.1, PID-3[*] where .4.1 == "ACME" -> .1, PID-7 as date.');
    const path = this.hl7Path();
    const f: A.FieldDecl = { kind: 'field', name, path, range: name.range };
    if (this.eat(K.where)) f.where = this.expr();
    if (this.eat(T.Arrow)) {
      if (this.nameAt()) f.map = this.name('a value map');
      else {
        const t = this.expect(T.RelPath, 'a component like .1 or .4.2, or a value map', 'After -> name the component to keep (-> .1) or a value map (-> gender).');
        f.select = { components: t.image.slice(1).split('.').map(Number), range: tokenRange(t) };
      }
    }
    if (this.eat(K.as)) f.as = this.name('a conversion', 'One of string, number, date, datetime, raw.');
    if (!f.map && this.eat(T.Arrow)) f.map = this.name('a value map', 'Write: sex = PID-8 -> gender');
    f.range = span(name.range, this.prevEnd());
    return f;
  }

  // ---- value map ----
  private storeDecl(): A.StoreDecl {
    const kw = this.next();
    const storeKind = this.name('the store kind', 'Write: store postgres env("DATABASE_URL"), or store sqlite');
    const d: A.StoreDecl = { kind: 'store_decl', storeKind, range: span(tokenRange(kw), storeKind.range) };
    if (this.startsAtom(this.peek(), true) && this.peek()!.startLine === storeKind.range.start.line) {
      d.url = this.atom();
      d.range = span(d.range, d.url.range);
    }
    return d;
  }

  private mapDecl(): A.MapDecl {
    const kw = this.next();
    const name = this.qualifiedName('the map name', 'Write: map gender { "F": "female", else: "unknown" }');
    const d: A.MapDecl = { kind: 'map', name, entries: [], range: tokenRange(kw) };
    if (this.eat(K.to)) d.system = this.string('a code system URL', 'Write: map gender to "http://hl7.org/fhir/administrative-gender" { … }');
    const b = this.block('map', () => {
      if (this.isKw('else')) {
        const e = this.next();
        this.expect(T.Colon, '":"', 'Write: else: "value"');
        d.else = this.string('the value for inputs not listed', 'Write: else: "unknown"');
        d.elseRange = tokenRange(e);
        return undefined;
      }
      const key = this.string('an input value in quotes', 'Each line maps an input to an output: "F": "female"');
      this.expect(T.Colon, '":"', `Write: ${key.raw}: "output"`);
      const value = this.string('the output value in quotes', `Write: ${key.raw}: "output"`);
      return { kind: 'map_entry' as const, key, value, range: span(key.range, value.range) };
    }, (t) => t.tokenType === T.StringLiteral || t.tokenType === K.else);
    d.entries = b.items;
    d.range = span(tokenRange(kw), b.range);
    return d;
  }

  /** A name, or `std.name` (the library's). */
  private qualifiedName(what: string, hint: string): A.Ident {
    const first = this.name(what, hint);
    if (!(this.is(T.Dot) && this.nameAt(1))) return first;
    this.next();
    const second = this.name(what, hint);
    return { kind: 'ident', name: `${first.name}.${second.name}`, range: span(first.range, second.range) };
  }

  // ---- transform ----
  /** `version "2.5.1"`: the HL7 version whose dictionary checks the transform's paths. */
  private transformVersion(d: A.TransformDecl): void {
    const t = this.peek();
    if (!t || !isName(t) || t.image !== 'version' || !this.is(T.StringLiteral, 1)) return;
    this.next();
    const v = this.next();
    d.version = { value: this.unquote(v, false), range: tokenRange(v) };
  }

  private transformDecl(): A.TransformDecl {
    const kw = this.next();
    const name = this.qualifiedName('the transform name', 'Write: transform NAME(pid: PID) -> Patient { … }');
    const d: A.TransformDecl = { kind: 'transform', name, params: [], lets: [], body: undefined!, range: tokenRange(kw) };
    if (this.eat(K.extends)) {
      d.extends = this.qualifiedName('the transform it extends', 'Write: transform my_patient extends std.patient { … }');
      this.transformVersion(d);
    } else {
      this.expect(T.LParen, '"("', 'Write the parameters: transform NAME(pid: PID, visit: PV1) -> Patient { … }');
      while (!this.is(T.RParen) && this.pos < this.tokens.length) {
        const pn = this.name('a parameter name', 'Write: name: TYPE (message, a segment such as PID, each OBX, a data type such as CX, or value)');
        this.expect(T.Colon, '":"', `Write: ${pn.name}: PID`);
        const each = !!this.eat(K.each);
        const type = this.name('a parameter type', 'One of message, a segment (PID), each SEG, a data type (CX) or value.');
        d.params.push({ kind: 'transform-param', name: pn, type, each, range: span(pn.range, type.range) });
        if (!this.eat(T.Comma)) break;
      }
      this.expect(T.RParen, '")"', 'Close the parameters with ).');
      this.expect(T.Arrow, '"->"', 'Name the result: -> Patient (a FHIR R4 resource or data type).');
      d.result = this.name('a FHIR type', 'Write: -> Patient');
      this.transformVersion(d);
      if (this.eat(T.Equals)) {
        d.value = this.expr();
        d.body = { kind: 'object', entries: [], range: d.value.range };
        d.range = span(tokenRange(kw), d.value.range);
        return d;
      }
    }
    const open = this.expect(T.LBrace, '"{"', 'The body is the resource: { element: value … }');
    const entries: A.ObjectExpr['entries'] = [];
    while (!this.is(T.RBrace) && this.pos < this.tokens.length) {
      if (this.isKw('let')) {
        const l = this.next();
        const ln = this.name('a name', 'Write: let id = uuid("Patient_", PID-3.1)');
        this.expect(T.Equals, '"="', `Write: let ${ln.name} = value`);
        const value = this.expr();
        d.lets.push({ kind: 'transform-let', name: ln, value, range: span(tokenRange(l), value.range) });
        this.eat(T.Comma);
        continue;
      }
      if (this.eat(T.Equals)) {
        // `{ let x = …  = EXPR }`: a value computed after the lets.
        d.value = this.expr();
        continue;
      }
      const k = this.peek()!;
      let key: string;
      if (k.tokenType === T.StringLiteral) key = this.unquote(this.next(), false);
      else if (this.nameAt()) key = this.next().image;
      else this.fail('an element or let', 'The body lists elements (identifier: …) after any let lines, or = VALUE.');
      this.expect(T.Colon, '":"', `Write: ${k.image}: VALUE`);
      entries.push({ key: key!, keyRange: tokenRange(k), value: this.expr() });
      this.eat(T.Comma);
    }
    const close = this.expect(T.RBrace, '"}"', 'Close the transform with }.');
    d.body = { kind: 'object', entries, range: span(tokenRange(open), tokenRange(close)) };
    d.range = span(tokenRange(kw), tokenRange(close));
    return d;
  }

  // ---- workflow ----
  private workflowDecl(): A.WorkflowDecl {
    const kw = this.next();
    const name = this.name('the workflow name', 'Write: workflow NAME { … }');
    const settings: A.Setting[] = [];
    const b = this.block('workflow', () => {
      if (this.startsStmt(this.peek()!, this.pos)) return this.stmt();
      settings.push(this.setting());
      return undefined;
    }, (t, i) => this.startsStmt(t, i) || isName(t));
    return { kind: 'workflow', name, settings, body: b.items, range: span(tokenRange(kw), b.range) };
  }

  private static requestVerbs = new Set<TokenType>([...fhirVerbs, ...httpVerbs].map((w) => K[w]));
  private static stmtStarts = new Set<TokenType>(statementStarts('workflow').map((w) => K[w as T.Keyword]));
  private startsStmt(t: IToken, index: number): boolean {
    if (index === this.pos) this.offer(Parser.stmtStarts);
    if (Parser.stmtStarts.has(t.tokenType)) return true;
    return isName(t) && this.tokens[index + 1]?.tokenType === T.Equals;
  }

  private stmts(what: string): { items: A.Stmt[]; range: A.Range } {
    return this.block(what, () => this.stmt(), (t, i) => this.startsStmt(t, i));
  }

  private stmt(): A.Stmt {
    const t = this.peek()!;
    const r = tokenRange(t);
    this.offer(Parser.stmtStarts);
    switch (t.tokenType) {
      case K.if: return this.ifStmt();
      case K.for: {
        this.next();
        this.expect(K.each, '"each"', 'Write: for each item in list { … }');
        const variable = this.name('the loop variable');
        this.expect(K.in, '"in"', `Write: for each ${variable.name} in LIST { … }`);
        const over = this.expr();
        const b = this.stmts('for each body');
        return { kind: 'for', variable, over, body: b.items, range: span(r, b.range) };
      }
      case K.let: {
        this.next();
        const name = this.name('a variable name');
        this.expect(T.Equals, '"="', `Write: let ${name.name} = EXPRESSION`);
        const value = this.expr();
        return { kind: 'let', name, value, range: span(r, value.range) };
      }
      case K.store: {
        this.next();
        const value = this.additive(); // not expr(): `in` here names the collection
        this.expect(K.in, '"in"', 'Write: store VALUE in "collection" [key EXPRESSION]');
        const collection = this.string('a collection name', 'Name the collection: store message in "admissions"');
        const key = this.eat(K.key) ? this.expr() : undefined;
        return { kind: 'store', value, collection, key, range: span(r, this.prevEnd()) };
      }
      case K.send: {
        this.next();
        let value: A.Expr | 'message';
        const vr = this.here();
        if (this.isKw('message') && this.isKw('to', 1)) { this.next(); value = 'message'; } else value = this.expr();
        this.expect(K.to, '"to"', 'Write: send message to API or send { … } to API');
        const api = this.name('an API name');
        let urlPath: A.Expr | undefined;
        if (this.eat(K.path)) {
          if (!this.is(T.StringLiteral)) this.fail('a path', 'Write: path "/inbound"');
          urlPath = this.template(this.next());
        }
        return { kind: 'send', value, valueRange: value === 'message' ? vr : value.range, api, urlPath, range: span(r, this.prevEnd()) };
      }
      case K.reject: {
        this.next();
        const code = this.name('AE or AR', 'Write: reject AE "reason" (AE: content error; AR: rejected).');
        const text = this.expr();
        return { kind: 'reject', code, text, range: span(r, text.range) };
      }
      default: {
        if (this.nameAt() && this.is(T.Equals, 1)) {
          const target = this.name('a step name');
          this.next();
          // `name = EXPRESSION` (not a request verb): a new value for a let variable.
          this.offer(Parser.requestVerbs);
          const verb = this.peek();
          if (!verb || !Parser.requestVerbs.has(verb.tokenType)) {
            const value = this.expr();
            return { kind: 'let', name: target, value, assign: true, range: span(target.range, value.range) };
          }
          const req = this.request();
          req.target = target;
          req.range = span(target.range, req.range);
          return req;
        }
        if (Parser.stmtStarts.has(t.tokenType)) return this.request();
        return this.fail('a step', 'Steps: NAME = search|read|create|update|delete … or get|post|put|patch|delete API "/path", if, for each, let, store, send, reject.');
      }
    }
  }

  private ifStmt(): A.IfStmt {
    const kw = this.next();
    const cond = this.expr();
    const then = this.stmts('if body');
    const s: A.IfStmt = { kind: 'if', cond, then: then.items, range: span(tokenRange(kw), then.range) };
    if (this.isKw('else')) {
      const e = this.next();
      if (this.isKw('if')) {
        const nested = this.ifStmt();
        s.else = [nested];
        s.range = span(s.range, nested.range);
      } else {
        const b = this.stmts('else body');
        s.else = b.items;
        s.range = span(s.range, b.range);
      }
      s.elseRange = tokenRange(e);
    }
    return s;
  }

  /** FHIR interactions and REST calls; the target (`name =`) is filled by the caller. */
  private request(): A.RequestStmt {
    const v = this.next();
    const verb = v.image as A.FhirVerb | A.HttpVerb;
    const vr = tokenRange(v);
    // `delete`/`patch API "/path"` are REST calls; `delete`/`patch API Type …` FHIR interactions.
    const rest = ['get', 'post', 'put'].includes(verb) || ((verb === 'delete' || verb === 'patch') && (this.is(T.StringLiteral, 1) || this.is(T.StringLiteral)));
    if (rest) {
      const api = this.name('an API name', `Write: ${verb} API "/path"`);
      if (!this.is(T.StringLiteral)) this.fail('a path', `Write: ${verb} ${api.name} "/path/{id}"`);
      const urlPath = this.template(this.next());
      const s: A.RequestStmt = { kind: 'request', protocol: 'rest', verb, verbRange: vr, api, urlPath, range: vr };
      for (;;) {
        if (this.eat(K.query)) s.query = this.expr();
        else if (this.eat(K.headers)) s.headers = this.expr();
        else if (this.eat(K.body)) s.body = this.expr();
        else if (this.isContextual('response') && this.is(T.LBrace, 1)) s.response = this.responseDecl();
        else break;
      }
      s.range = span(vr, this.prevEnd());
      return s;
    }
    if (!['read', 'search', 'create', 'update', 'patch', 'delete'].includes(verb)) this.fail('a step', 'Unknown step.', vr);
    const first = this.name('a resource type', `Write: ${verb} [API] ResourceType …`);
    let api: A.Ident | undefined;
    let resourceType = first;
    if (this.nameAt() && /^[A-Z]/.test(this.peek()!.image) && !/^[A-Z]/.test(first.name)) {
      api = first;
      resourceType = this.name('a resource type');
    } else if (this.misspeltTypeAfterApi(verb, first)) {
      // `search ehr patient { … }`: the API then a type written in lower case (HDC4001 offers
      // Patient), not a type "ehr" followed by a stray name that cascades through the block.
      api = first;
      resourceType = this.name('a resource type');
    }
    const s: A.RequestStmt = { kind: 'request', protocol: 'fhir', verb, verbRange: vr, api, resourceType, range: vr };
    switch (verb) {
      case 'read':
      case 'delete':
        s.id = this.expr();
        break;
      case 'search':
        if (this.is(T.LBrace)) s.params = this.objectExpr();
        if (this.eat(K.pages)) {
          const n = this.expect(T.NumberLiteral, 'a number of pages', 'Write: pages 5');
          s.pages = { value: Number(n.image), range: tokenRange(n) };
        }
        break;
      case 'create':
        this.expect(K.body, '"body"', `Write: create ${api ? api.name + ' ' : ''}${resourceType.name} body { … }`);
        s.body = this.expr();
        if (this.eat(K.if_none_exist)) s.conditional = this.objectExpr();
        break;
      case 'update':
      case 'patch':
        if (this.eat(K.where)) s.conditional = this.objectExpr();
        else s.id = this.expr();
        this.expect(K.body, '"body"', `Write: ${verb} API Type ID body { … }`);
        s.body = this.expr();
        break;
    }
    // `optional` (launch fetches): a 403 or 404 makes the result null instead of failing.
    if (this.isContextual('optional') && !this.is(T.Equals, 1)) s.optionalRange = tokenRange(this.next());
    // Parsed here too so that the checker can say why a FHIR step takes none.
    if (this.isContextual('response') && this.is(T.LBrace, 1)) s.response = this.responseDecl();
    s.range = span(vr, this.prevEnd());
    return s;
  }

  /**
   * After `VERB name`, a second plain name on the same line is the resource type (misspelt in lower
   * case). For read and delete the name may be the id instead (`read patient x` in a launch), so
   * there it counts as the type only when more follows it on the line (the id).
   */
  private misspeltTypeAfterApi(verb: string, first: A.Ident): boolean {
    const next = this.peek();
    if (!next || next.tokenType !== T.Identifier || /^[A-Z]/.test(first.name) || next.startLine !== first.range.end.line) return false;
    if (verb !== 'read' && verb !== 'delete') return true;
    const after = this.peek(1);
    // `read patient context.patient`: the second name starts the id expression.
    const continues = [T.RBrace, T.Dot, T.LBracket, T.LParen].includes(after?.tokenType as never);
    return !!after && after.startLine === next.startLine && !continues;
  }

  /** A name that is a keyword only here (`response`, `optional`): an identifier to the lexer. */
  private isContextual(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.tokenType === T.Identifier && t.image === word;
  }

  /** `response { name = PATH [as CONVERSION] [optional], name = each PATH { … } }` */
  private responseDecl(): A.ResponseDecl {
    const kw = this.next();
    const b = this.block('response block', () => this.responseField(), isName);
    return { kind: 'response', fields: b.items, range: span(tokenRange(kw), b.range) };
  }
  private responseField(): A.ResponseFieldDecl {
    const name = this.name('a field name', 'Write: total = data.count as number');
    this.expect(T.Equals, '"="', `Write: ${name.name} = data.${name.name}`);
    const f: A.ResponseFieldDecl = { kind: 'response_field', name, path: { kind: 'error', range: this.here() }, range: name.range };
    if (this.isKw('each')) {
      this.next();
      f.each = true;
      f.path = this.postfix();
      f.fields = this.block('each block', () => this.responseField(), isName).items;
    } else {
      f.path = this.postfix();
      if (this.eat(K.as)) f.as = this.name('a conversion', 'One of string, number, boolean, date, datetime, list, record.');
    }
    if (this.isContextual('optional') && !this.is(T.Equals, 1)) { this.next(); f.optional = true; }
    f.range = span(name.range, this.prevEnd());
    return f;
  }

  // ---- smart launch ----
  private launchDecl(): A.LaunchDecl {
    const kw = this.next();
    this.expect(K.launch, '"launch"', 'Write: smart launch NAME { … }');
    const name = this.name('the launch name');
    const decl: A.LaunchDecl = { kind: 'launch', name, settings: [], fetch: [], range: tokenRange(kw) };
    if (this.eat(K.extends)) { decl.extends = this.name('the launch it extends', 'Write: smart launch NAME extends BASE { … }'); }
    const b = this.block('smart launch block', () => {
      if (this.isKw('login')) decl.login = this.loginDecl();
      else if (this.isKw('fetch')) {
        const f = this.next();
        const fb = this.stmts('fetch block');
        decl.fetch.push(...fb.items);
        decl.fetchRange = span(tokenRange(f), fb.range);
      } else if (this.isKw('map') && this.is(T.LBrace, 1)) { this.next(); decl.map = this.objectExpr(); }
      else if (this.isKw('redirect')) decl.redirect = this.redirectDecl();
      else decl.settings.push(this.setting());
      return undefined;
    }, isName);
    decl.range = span(tokenRange(kw), b.range);
    return decl;
  }

  private loginDecl(): A.LoginDecl {
    const kw = this.next();
    const method = this.name('a login method', 'One of oidc, ldap, users, postgres.');
    const d: A.LoginDecl = { kind: 'login', method, settings: [], range: span(tokenRange(kw), method.range) };
    if (this.is(T.LBrace)) {
      const b = this.block('login block', () => {
        if (this.eat(K.require)) d.require = this.expr();
        else if (this.isKw('map') && this.is(T.LBrace, 1)) { this.next(); d.map = this.objectExpr(); }
        else d.settings.push(this.setting());
        return undefined;
      }, isName);
      d.range = span(d.range, b.range);
    }
    return d;
  }

  private redirectDecl(): A.RedirectDecl {
    const kw = this.next();
    const d: A.RedirectDecl = { kind: 'redirect', rules: [], range: tokenRange(kw) };
    const b = this.block('redirect block', () => {
      const t = this.peek()!;
      if (this.eat(K.when)) {
        const when = this.expr();
        const rule = this.redirectTarget(tokenRange(t));
        rule.when = when;
        d.rules.push(rule);
      } else if (this.eat(K.otherwise)) {
        d.otherwise = this.redirectTarget(tokenRange(t));
      } else this.fail('when or otherwise', 'Write: when CONDITION to "https://…" with { … }, then otherwise to "https://…".');
      return undefined;
    }, (t) => t.tokenType === K.when || t.tokenType === K.otherwise);
    d.range = span(tokenRange(kw), b.range);
    return d;
  }
  private redirectTarget(start: A.Range): A.RedirectRuleDecl {
    this.expect(K.to, '"to"', 'Write: to "https://forms.example.org/page"');
    const to = this.string('a target URL', 'Targets are literal https URLs (no expressions: no open redirects).');
    const w = this.eat(K.with) ? this.objectExpr() : undefined;
    return { kind: 'redirect_rule', to, with: w, range: span(start, this.prevEnd()) };
  }

  // ---- tests ----
  private testDecl(): A.TestDecl {
    const kw = this.next();
    const name = this.string('the test name', 'Write: test "admit finds the patient" { … }');
    const starts = (t: IToken) => Parser.testStarts.has(t.tokenType);
    const b = this.block('test block', () => this.testStmt(), starts);
    return { kind: 'test', name, body: b.items, range: span(tokenRange(kw), b.range) };
  }

  private static testStarts = new Set<TokenType>(statementStarts('test').map((w) => K[w as T.Keyword]));
  private testStmt(): A.TestStmt {
    this.offer(Parser.testStarts);
    const t = this.next();
    const r = tokenRange(t);
    switch (t.tokenType) {
      case K.send: {
        const message = this.is(K.file) ? this.fileCall() : this.string('a message', 'Write: send file("fixtures/adt.hl7") to SENDER');
        this.expect(K.to, '"to"', 'Write: send file("…") to SENDER');
        const sender = this.name('a sender name');
        return { kind: 'send', message, sender, range: span(r, sender.range) };
      }
      case K.launch: {
        const launch = this.name('a launch name');
        this.expect(K.with, '"with"', 'Write: launch NAME with { patient: "123" }');
        const context = this.objectExpr();
        let user: A.ObjectExpr | undefined;
        if (this.nameAt() && this.peek()!.image === 'user') { this.next(); user = this.objectExpr(); }
        return { kind: 'launch', launch, context, user, range: span(r, this.prevEnd()) };
      }
      case K.mock: {
        const m: A.TestMock = { kind: 'mock', range: r };
        if (this.eat(K.step)) m.step = this.name('a step name');
        else {
          const first = this.name('an API name', 'Write: mock API ResourceType returns …, mock API "/path" returns …, or mock step NAME returns …');
          // `mock Patient returns …` (no API) mocks a SMART launch's FHIR server.
          if (/^[A-Z]/.test(first.name)) {
            m.resourceType = first;
            m.range = span(r, first.range);
            if (!this.eat(K.returns) && !this.is(K.status)) this.fail('"returns"', 'Write: mock Patient returns file("patient.json")');
            else if (this.lastToken?.tokenType === K.returns) m.returns = this.is(K.file) ? this.fileCall() : this.expr();
            if (this.eat(K.status)) {
              const n = this.expect(T.NumberLiteral, 'an HTTP status', 'Write: status 404');
              m.status = { value: Number(n.image), range: tokenRange(n) };
            }
            m.range = span(r, this.prevEnd());
            return m;
          }
          m.api = first;
          if (this.nameAt() && /^(get|post|put|patch|delete)$/.test(this.peek()!.image) && this.is(T.StringLiteral, 1)) m.method = this.name('a method');
          if (this.is(T.StringLiteral)) m.urlPath = this.string('a path', '');
          else if (this.nameAt() && /^[A-Z]/.test(this.peek()!.image)) m.resourceType = this.name('a resource type');
        }
        if (this.eat(K.status)) {
          const n = this.expect(T.NumberLiteral, 'an HTTP status', 'Write: status 404');
          m.status = { value: Number(n.image), range: tokenRange(n) };
        }
        if (this.eat(K.returns)) m.returns = this.is(K.file) ? this.fileCall() : this.expr();
        if (!m.status && this.eat(K.status)) {
          const n = this.expect(T.NumberLiteral, 'an HTTP status', 'Write: status 201');
          m.status = { value: Number(n.image), range: tokenRange(n) };
        }
        if (!m.returns && !m.status) this.fail('"returns" or "status"', 'Write: mock ehr Patient returns file("patient.json") [status 200]');
        m.range = span(r, this.prevEnd());
        return m;
      }
      case K.expect: return this.expectStmt(r);
      default:
        this.pos--;
        return this.fail('send, launch, mock or expect', 'A test sends a message (or starts a launch), mocks responses and states expectations.');
    }
  }

  private expectStmt(r: A.Range): A.TestExpect {
    this.offer([K.ack, K.field, K.no, K.request, K.stored, K.redirect]);
    const what = this.next();
    const e: A.TestExpect = { kind: 'expect', what: 'ack', range: r };
    switch (what.tokenType) {
      case K.ack:
        e.code = this.name('an ACK code', 'Write: expect ack AA (or AE, AR, CA, CE, CR)');
        if (this.is(T.StringLiteral)) e.text = this.string('', '');
        break;
      case K.field: {
        e.what = 'field';
        e.name = this.name('a mapped field name');
        const valueRef: A.Expr = { kind: 'ref', name: 'value', range: e.name.range };
        e.cond = this.comparisonTail(valueRef);
        break;
      }
      case K.no:
        this.expect(K.request, '"request"', 'Write: expect no request API');
        e.what = 'no_request';
        this.requestFilter(e);
        break;
      case K.request:
        e.what = 'request';
        this.requestFilter(e);
        break;
      case K.stored:
        e.what = 'stored';
        e.collection = this.string('a collection name', 'Write: expect stored "admissions" where count(records) == 1');
        if (this.eat(K.where)) e.cond = this.expr();
        break;
      case K.redirect:
        e.what = 'redirect';
        e.text = this.string('the target URL', 'Write: expect redirect "https://forms.example.org/active" where params.member == "123"');
        if (this.eat(K.where)) e.cond = this.expr();
        break;
      default:
        // `expect error page "text"` (a launch that ends on its error page): contextual words.
        if (what.image === 'error' && this.nameAt() && this.peek()!.image === 'page') {
          this.next();
          e.what = 'error_page';
          e.text = this.string('text the page says', 'Write: expect error page "did not grant" where status == 403');
          if (this.eat(K.where)) e.cond = this.expr();
          break;
        }
        this.pos--;
        this.fail('ack, field, request, no request, stored, redirect or error page', 'Write: expect ack AA');
    }
    e.range = span(r, this.prevEnd());
    return e;
  }
  private requestFilter(e: A.TestExpect): void {
    e.api = this.name('an API name');
    if (this.nameAt() && /^(get|post|put|patch|delete|read|search|create|update)$/.test(this.peek()!.image)) e.method = this.name('a method');
    if (this.is(T.StringLiteral)) e.urlPath = this.string('', '');
    if (this.eat(K.where)) e.cond = this.expr();
  }
  private comparisonTail(left: A.Expr): A.Expr {
    const ops: Array<[TokenType, A.BinaryExpr['op']]> = [[T.EqEq, '=='], [T.NotEq, '!='], [T.LtEq, '<='], [T.GtEq, '>='], [T.Lt, '<'], [T.Gt, '>']];
    for (const [tt, op] of ops) {
      if (this.eat(tt)) {
        const right = this.additive();
        return { kind: 'binary', op, left, right, range: span(left.range, right.range) };
      }
    }
    return { kind: 'call', callee: { kind: 'ident', name: 'exists', range: left.range }, args: [left], range: left.range };
  }

  // ---- expressions ----
  expr(): A.Expr { return this.or(); }
  private or(): A.Expr {
    let left = this.and();
    while (this.eat(K.or)) { const right = this.and(); left = { kind: 'binary', op: 'or', left, right, range: span(left.range, right.range) }; }
    return left;
  }
  private and(): A.Expr {
    let left = this.not();
    while (this.eat(K.and)) { const right = this.not(); left = { kind: 'binary', op: 'and', left, right, range: span(left.range, right.range) }; }
    return left;
  }
  private not(): A.Expr {
    const t = this.eat(K.not);
    if (!t) return this.comparison();
    const operand = this.not();
    return { kind: 'unary', op: 'not', operand, range: span(tokenRange(t), operand.range) };
  }
  private comparison(): A.Expr {
    const left = this.additive();
    if (this.isKw('in')) {
      this.next();
      const right = this.additive();
      return { kind: 'binary', op: 'in', left, right, range: span(left.range, right.range) };
    }
    const ops: Array<[TokenType, A.BinaryExpr['op']]> = [[T.EqEq, '=='], [T.NotEq, '!='], [T.LtEq, '<='], [T.GtEq, '>='], [T.Lt, '<'], [T.Gt, '>']];
    for (const [tt, op] of ops) {
      if (this.eat(tt)) {
        const right = this.additive();
        return { kind: 'binary', op, left, right, range: span(left.range, right.range) };
      }
    }
    return left;
  }
  private additive(): A.Expr {
    let left = this.unary();
    for (;;) {
      const op = this.eat(T.Plus) ? '+' : this.eat(T.Minus) ? '-' : undefined;
      if (!op) return left;
      const right = this.unary();
      left = { kind: 'binary', op, left, right, range: span(left.range, right.range) };
    }
  }
  private unary(): A.Expr {
    const t = this.eat(T.Minus);
    if (!t) return this.postfix();
    const operand = this.unary();
    return { kind: 'unary', op: 'neg', operand, range: span(tokenRange(t), operand.range) };
  }
  private postfix(): A.Expr {
    let e = this.primary();
    for (;;) {
      if (this.is(T.Dot) && this.nameAt(1)) {
        this.next();
        const property = this.name('a property name');
        e = { kind: 'member', object: e, property, range: span(e.range, property.range) };
      } else if (this.is(T.Dot) && this.peek(1)?.tokenType === T.Identifier) {
        this.next();
      } else if (this.is(T.LBracket)) {
        const open = this.next();
        let index: number | '*';
        if (this.eat(T.Star)) index = '*';
        else index = Number(this.expect(T.NumberLiteral, 'an index or *', 'Index with a number (0-based) or [*] for every item.').image);
        const close = this.expect(T.RBracket, '"]"', 'Close the index with ].');
        e = { kind: 'index', object: e, index, indexRange: span(tokenRange(open), tokenRange(close)), range: span(e.range, tokenRange(close)) };
      } else if (this.is(T.RelPath) && e.kind !== 'literal') {
        // `a.0` lexes as a RelPath; it means index 0 of a.
        const t = this.next();
        const parts = t.image.slice(1).split('.').map(Number);
        for (const n of parts) e = { kind: 'index', object: e, index: n, indexRange: tokenRange(t), range: span(e.range, tokenRange(t)) };
      } else return e;
    }
  }
  private primary(): A.Expr {
    const t = this.peek();
    const r = t ? tokenRange(t) : this.eofRange();
    this.offer([K.true, K.false, K.null, K.env, K.file, K.for]);
    switch (t?.tokenType) {
      case T.StringLiteral: this.next(); return this.template(t);
      case T.NumberLiteral: this.next(); return { kind: 'literal', value: Number(t.image), range: r };
      case K.true: this.next(); return { kind: 'literal', value: true, range: r };
      case K.false: this.next(); return { kind: 'literal', value: false, range: r };
      case K.null: this.next(); return { kind: 'literal', value: null, range: r };
      case K.env: { const v = this.envCall(); return { kind: 'secret', value: v, range: v.range }; }
      case K.file: { const v = this.fileCall(); return { kind: 'secret', value: v, range: v.range }; }
      case T.RelPath: this.next(); return { kind: 'rel', components: t.image.slice(1).split('.').map(Number), range: r };
      case T.Hl7PathToken: { const h = this.hl7Path(); return { kind: 'hl7path', path: h.path, range: h.range }; }
      case K.for: {
        this.next();
        const variable = this.name('a loop variable', 'Write: for obx in OBX[*]: std.observation(obx)');
        this.expect(K.in, '"in"', `Write: for ${variable.name} in LIST: VALUE`);
        const over = this.additive();
        this.expect(T.Colon, '":"', `Write: for ${variable.name} in LIST: VALUE`);
        const body = this.expr();
        return { kind: 'for', variable, over, body, range: span(r, body.range) };
      }
      case T.LBrace: return this.objectExpr();
      case T.LBracket: {
        this.next();
        const items: A.Expr[] = [];
        if (!this.is(T.RBracket)) do items.push(this.expr()); while (this.eat(T.Comma) && !this.is(T.RBracket));
        const close = this.expect(T.RBracket, '"]"', 'Close the list with ].');
        return { kind: 'array', items, range: span(r, tokenRange(close)) };
      }
      case T.LParen: {
        this.next();
        const e = this.expr();
        this.expect(T.RParen, '")"', 'Close the parenthesis.');
        return e;
      }
      default:
        if (this.nameAt()) {
          this.next();
          let callee = t!.image;
          let calleeRange = r;
          // std.patient(…): a qualified call (the library's transforms and maps).
          if (this.is(T.Dot) && this.nameAt(1) && this.is(T.LParen, 2)) {
            this.next();
            const second = this.next();
            callee = `${callee}.${second.image}`;
            calleeRange = span(r, tokenRange(second));
          }
          if (this.is(T.LParen)) {
            this.next();
            const args: A.Expr[] = [];
            if (!this.is(T.RParen)) do args.push(this.expr()); while (this.eat(T.Comma));
            const close = this.expect(T.RParen, '")"', `Close the call to ${callee}( with ).`);
            return { kind: 'call', callee: { kind: 'ident', name: callee, range: calleeRange }, args, range: span(r, tokenRange(close)) };
          }
          return { kind: 'ref', name: t!.image, range: r };
        }
        return this.fail('an expression', 'Expressions are values ("text", 12, true, null), names (patient.id), calls (first(list)), { objects } and [lists].');
    }
  }

  objectExpr(): A.ObjectExpr {
    const open = this.expect(T.LBrace, '"{"', 'Write an object: { key: value, … }');
    const entries: A.ObjectExpr['entries'] = [];
    while (!this.is(T.RBrace) && this.pos < this.tokens.length) {
      const k = this.peek()!;
      let key: string;
      if (k.tokenType === T.StringLiteral) key = this.unquote(this.next(), false);
      else if (this.nameAt()) key = this.next().image;
      else this.fail('a key', 'Object keys are names or "quoted strings": { identifier: "…", "code:text": "…" }');
      this.expect(T.Colon, '":"', `Write: ${k.image}: VALUE`);
      const value = this.expr();
      entries.push({ key: key!, keyRange: tokenRange(k), value });
      if (!this.eat(T.Comma) && !this.is(T.RBrace) && !this.nameAt() && this.peek()?.tokenType !== T.StringLiteral) {
        this.fail('"," or "}"', 'Separate entries with commas (or new lines) and close the object with }.');
      }
    }
    const close = this.expect(T.RBrace, '"}"', 'Close the object with }.');
    return { kind: 'object', entries, range: span(tokenRange(open), tokenRange(close)) };
  }

  /** A string literal becomes a template when it holds `{expr}` interpolations. */
  private template(t: IToken): A.Expr {
    const r = tokenRange(t);
    const value = this.unquote(t, true);
    if (!value.includes('{')) return { kind: 'literal', value: value.replaceAll('\u0000', ''), range: r };
    const parts: Array<string | A.Expr> = [];
    const body = t.image.slice(1, -1);
    let text = '';
    let i = 0;
    while (i < body.length) {
      const c = body[i];
      if (c === '\\') { text += this.unquote({ ...t, image: '"' + body.slice(i, i + 2) + '"' } as IToken, false); i += 2; continue; }
      if (c !== '{') { text += c; i++; continue; }
      let depth = 1;
      let j = i + 1;
      for (; j < body.length && depth > 0; j++) {
        if (body[j] === '{') depth++;
        else if (body[j] === '}') depth--;
      }
      if (depth !== 0) {
        this.diagnostics.push({
          code: 'HDC1004', severity: 'error', file: this.file, summary: 'unclosed "{" in a string',
          detail: 'Close the interpolation with }, or write \\{ for a literal brace.', range: this.subRange(t, i, body.length),
        });
        return { kind: 'literal', value: body, range: r };
      }
      if (text) parts.push(text);
      text = '';
      parts.push(this.subExpr(t, i + 1, j - 1));
      i = j;
    }
    if (text) parts.push(text);
    return { kind: 'template', parts, raw: t.image, range: r };
  }

  private subExpr(t: IToken, from: number, to: number): A.Expr {
    const inner = t.image.slice(1 + from, 1 + to);
    const lexed = T.hdcLexer.tokenize(inner);
    const base = this.subRange(t, from, from).start;
    const shift = (tok: IToken): IToken => ({
      ...tok,
      startOffset: tok.startOffset + base.offset, endOffset: (tok.endOffset ?? tok.startOffset) + base.offset,
      startLine: base.line, endLine: base.line,
      startColumn: (tok.startColumn ?? 1) + base.col - 1, endColumn: (tok.endColumn ?? 1) + base.col - 1,
    });
    const sub = new Parser(lexed.tokens.map(shift), this.text, this.file);
    const range = this.subRange(t, from, to);
    if (lexed.errors.length || lexed.tokens.length === 0) {
      this.diagnostics.push({
        code: 'HDC1004', severity: 'error', file: this.file, summary: `invalid interpolation {${inner}}`,
        detail: 'Inside {…} write an expression such as {patient.id}; write \\{ for a literal brace.', range,
      });
      return { kind: 'error', range };
    }
    try {
      const e = sub.expr();
      if (sub.pos < lexed.tokens.length) sub.fail('the end of the interpolation', 'Only one expression fits in {…}.');
      return e;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      return { kind: 'error', range };
    } finally {
      this.diagnostics.push(...sub.diagnostics);
    }
  }
}

export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}
