// Completion that knows the context: keywords valid at the cursor, declared names, HL7 paths and
// message types for the sender's version, FHIR resource types, search parameters and elements,
// and the variables (with the fields of earlier step results) visible where the cursor is.
import type { IToken } from 'chevrotain';
import { CompletionItemKind, InsertTextFormat, type CompletionItem, type CompletionList, type CompletionParams, type Range } from 'vscode-languageserver';
import * as T from '../../compiler/syntax/tokens.ts';
import type * as A from '../../compiler/syntax/ast.ts';
import { scopeAt } from '../../compiler/api.ts';
import * as S from '../../compiler/semantics/settings.ts';
import { builtinDoc } from '../../compiler/semantics/lower-expr.ts';
import type { Declaration, SymbolKind } from '../../compiler/semantics/symbols.ts';
import * as fhir from '../../compiler/dictionaries/fhir.ts';
import * as hl7 from '../../compiler/dictionaries/hl7.ts';
import { parseHl7Path } from '../../compiler/syntax/hl7-path.ts';
import { cursorContext, isType, tokenIs, type CursorContext, type Frame } from '../cursor-context.ts';
import * as C from '../completion-sources.ts';
import type { ServerContext } from '../server.ts';
import type { ProjectAnalysis } from '../analysis.ts';
import { uriToPath } from '../workspace.ts';
import { RESPONSE_CONVERSIONS } from '../../compiler/semantics/response-shape.ts';
import { declarationKeywords, fhirVerbs, httpVerbs, statements } from '../../compiler/specs/statements.ts';
import { ackCodes, builtinFields, builtinsIn, conversions } from '../../compiler/specs/enumerations.ts';
import { moduleDeclaration } from '../../compiler/specs/module-spec.ts';
import { expectedAt } from '../../compiler/syntax/expected.ts';
import { withGrammarKeywords } from '../grammar-keywords.ts';
import { moduleRunInputs } from '../../compiler/semantics/resolve.ts';

export const completionTriggerCharacters = ['.', '-', '^'];

// The words come from the vocabulary (compiler/specs/), declared once for every consumer.
const FHIR_VERBS: readonly string[] = fhirVerbs;
const REST_VERBS: readonly string[] = httpVerbs;
const STATEMENT_KEYWORDS = ['if', 'for', 'let', 'store', 'send', 'reject', ...FHIR_VERBS, 'get', 'post', 'put', 'patch'];
const API_KINDS = statements.find((s) => s.keyword === 'api')!.verbs!;
const CONVERSIONS = Object.keys(conversions).filter((c) => c !== 'list');
const ACK_CODES = Object.keys(ackCodes);
const LAUNCH_BUILTINS: readonly string[] = builtinsIn.launch;

/** Everything a completion decision reads. */
interface Site {
  cur: CursorContext;
  /** The project Resolved around this file (compiled on first use, or the last one while the edit is local). */
  readonly analysis: ProjectAnalysis;
  /** The cursor's offset in the text the analysis read. */
  readonly at: number;
  path: string;
  file?: A.SourceFile;
  /** Range of the text being typed, for items that replace it (paths, message types). */
  range(fromOffset: number): Range;
}

export function completion(ctx: ServerContext, params: CompletionParams): CompletionList | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const path = uriToPath(params.textDocument.uri);
  // The file Parsed decides what is being typed; the project is Resolved only when the answer
  // needs names (variables in scope, declared APIs, fields of earlier results).
  const offset = doc.offsetAt(params.position);
  const file = ctx.analyzer.parsedNear(path, offset);
  const text = doc.getText();
  const cur = cursorContext(file, text, offset);
  let near: { analysis: ProjectAnalysis; at: number } | undefined;
  const resolved = () => (near ??= ctx.analyzer.resolvedNear(path, offset));
  const site: Site = {
    cur, path, file,
    get analysis() { return resolved().analysis; },
    get at() { return resolved().at; },
    range: (from) => ({ start: doc.positionAt(from), end: params.position }),
  };
  const found = complete(site);
  if (!found) return null;
  // The grammar decides which keywords fit here (never inside strings and comments: complete() returned).
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let items = found;
  try {
    const expected = expectedAt(text, cur.wordStart, cur.decl && cur.decl.range.start.offset <= cur.wordStart ? cur.decl.range.start.offset : lineStart);
    items = withGrammarKeywords(found, expected, cur.statement.length === 0);
  } catch (e) {
    // The probe must never cost the answer: the items stand as built.
    console.warn(`hdc: expectedAt failed: ${(e as Error)?.stack ?? e}`);
  }
  return { isIncomplete: false, items: forClient(items, ctx.snippetSupport) };
}

/**
 * Each label once; snippets only for clients that take them (others would insert `${1:name}`
 * literally): a snippet block then gives way to its keyword, an item with placeholders to its plain text.
 */
function forClient(items: CompletionItem[], snippets: boolean): CompletionItem[] {
  const isSnippet = (i: CompletionItem) => i.kind === CompletionItemKind.Snippet;
  const out: CompletionItem[] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    if (!snippets && isSnippet(item)) continue;
    const plain = !snippets && item.insertTextFormat === InsertTextFormat.Snippet ? withoutPlaceholders(item) : item;
    const at = seen.get(plain.label);
    if (at === undefined) {
      seen.set(plain.label, out.length);
      out.push(plain);
    } else if (isSnippet(plain) && !isSnippet(out[at]!)) out[at] = plain;
  }
  return out;
}

function withoutPlaceholders(item: CompletionItem): CompletionItem {
  const plain = (t: string) => t.replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, '$1').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
  const out: CompletionItem = { ...item, insertTextFormat: InsertTextFormat.PlainText };
  if (item.insertText !== undefined) out.insertText = plain(item.insertText);
  if (item.textEdit && 'newText' in item.textEdit) out.textEdit = { ...item.textEdit, newText: plain(item.textEdit.newText) };
  return out;
}

function complete(site: Site): CompletionItem[] | undefined {
  const { cur } = site;
  if (cur.inComment) return undefined;
  if (cur.inString) return cur.inString.interpolation !== undefined ? expressionItems(site, cur.inString.interpolation) : undefined;
  const decl = cur.decl;
  if (!decl || cur.frames.length === 0) return declarationHeader(site);
  const frame = cur.frames[cur.frames.length - 1]!;
  switch (decl.kind) {
    case 'auth': return settingsBlock(site, frame, S.authSpecs[decl.authKind.name] ?? {}, decl.settings);
    case 'api': return settingsBlock(site, frame, frame.kind === 'settings' ? S.apiSpec : forKind(S.apiSpec, decl.apiKind.name), decl.settings);
    case 'sender': return sender(site, decl, frame);
    case 'workflow': return body(site, frame, S.workflowSpec, decl.settings);
    case 'launch': return launch(site, decl, frame);
    case 'test': return testBody(site, frame);
    case 'module': return settingsBlock(site, frame, moduleDeclaration(decl.keyword.name)?.declaration.settings ?? {}, decl.settings);
    default: return undefined;
  }
}

// ---------------------------------------------------------------- top level

function declarationHeader(site: Site): CompletionItem[] {
  const s = site.cur.statement;
  const first = s[0];
  if (tokenIs(first, 'auth') && s.length === 2) return C.keywordItems(Object.keys(S.authSpecs), 0);
  if (tokenIs(first, 'api') && s.length === 2) return C.keywordItems(API_KINDS, 0);
  if (tokenIs(first, 'smart') && s.length === 1) return C.keywordItems(['launch'], 0);
  if (s.length > 0) return [];
  return [
    ...C.keywordItems(declarationKeywords(), 1),
    C.snippetItem('sender', 'sender ${1:name} {\n\tpath "/hl7/${1:name}"\n\tversion "${2:2.5.1}"\n\taccept ${3:ADT^A01}\n\tfields {\n\t\t$0\n\t}\n\ton ${3:ADT^A01} run ${4:workflow}\n}', 'sender block'),
    C.snippetItem('workflow', 'workflow ${1:name} {\n\t$0\n}', 'workflow block'),
    C.snippetItem('api', 'api ${1:name} ${2|fhir,rest,hl7|} "${3:https://}" {\n\t$0\n}', 'api declaration'),
    C.snippetItem('auth', 'auth ${1:name} ${2|smart_backend,oauth2,basic,bearer|} {\n\t$0\n}', 'auth block'),
    C.snippetItem('smart launch', 'smart launch ${1:name} {\n\tclient_id env("${2:SMART_CLIENT_ID}")\n\tscope "${3:launch openid fhirUser patient/Patient.rs}"\n\t$0\n}', 'SMART launch'),
    C.snippetItem('test', 'test "${1:description}" {\n\tsend file("${2:fixtures/message.hl7}") to ${3:sender}\n\t$0\n}', 'test'),
  ];
}

// ---------------------------------------------------------------- settings

/** A block of `key value` settings (auth, api, nested blocks): keys at a line start, values after a key. */
function settingsBlock(site: Site, frame: Frame, spec: S.SettingsSpec, present: A.Setting[] = [], extraKeywords: string[] = []): CompletionItem[] {
  const s = site.cur.statement;
  if (frame.kind === 'settings') {
    // A nested block: find its spec from the key that opened it.
    const key = frame.head[0]?.image ?? '';
    // `identity client_cert { … }` offers what client_cert takes, not basic's user and password.
    const nested = forKind(spec[key]?.block ?? {}, frame.head[1]?.image);
    return settingsBlock(site, { ...frame, kind: 'decl' }, nested, []);
  }
  if (s.length === 0) return [...C.settingItems(spec, new Set(present.map((p) => p.key.name))), ...C.keywordItems(extraKeywords, 1)];
  return settingValue(site, spec, s) ?? [];
}

/** The settings of a spec that apply to this kind (an API kind, an identity kind): `appliesTo` in the spec. */
function forKind(spec: S.SettingsSpec, kind: string | undefined): S.SettingsSpec {
  if (!kind) return spec;
  return Object.fromEntries(Object.entries(spec).filter(([, sp]) => !sp.appliesTo || sp.appliesTo.includes(kind)));
}

function settingValue(site: Site, spec: S.SettingsSpec, s: IToken[]): CompletionItem[] | undefined {
  const key = s[0]?.image ?? '';
  const sp = spec[key];
  if (!sp) return undefined;
  if (sp.kind === 'enum') return s.length === 1 ? C.keywordItems(sp.options ?? [], 0) : [];
  if (sp.suggest) {
    // A module's `words` setting says what comes next after the words written so far.
    const next = sp.suggest(s.slice(1).filter((t) => !isType(t, T.Comma)).map((t) => t.image));
    return [...C.keywordItems(next.words ?? [], 0), ...(next.declarations ? C.declarationItems(topDecls(site, next.declarations)) : [])];
  }
  if (sp.kind === 'name' && s.length === 1) {
    if (key === 'auth') return C.declarationItems(topDecls(site, 'auth'));
    if (key === 'order_by') return C.declarationItems(scope(site).variables.filter((v) => v.kind === 'field'));
  }
  if (sp.kind === 'value' && s.length === 1) return C.keywordItems(['env', 'file'], 0).map((i) => ({ ...i, insertText: `${i.label}("$1")`, insertTextFormat: InsertTextFormat.Snippet }));
  return [];
}

// ---------------------------------------------------------------- senders

function sender(site: Site, decl: A.SenderDecl, frame: Frame): CompletionItem[] {
  const { cur } = site;
  // Fields of a one-line group (`each OBX { code = OBX-3.1, value = OBX-`) are separated by commas:
  // the field being written starts after the last one.
  const comma = frame.kind === 'fields' ? cur.statement.map((t) => isType(t, T.Comma)).lastIndexOf(true) : -1;
  const s = comma >= 0 ? cur.statement.slice(comma + 1) : cur.statement;
  const version = senderVersion(decl);
  const hl7Typed = /(?<![A-Za-z0-9_.\]])([A-Z][A-Z0-9]{0,2}(?:\[(?:\d+|\*)\])?-[0-9[\]*.]*|[A-Z][A-Z0-9]{0,2})$/.exec(cur.linePrefix)?.[1];
  const accepted = decl.settings.filter((x) => x.key.name === 'accept').flatMap((x) => x.values).flatMap((v) => (v.kind === 'msgtype' ? [v.text] : []));

  if (frame.kind === 'fields') {
    // The field's own path (`PID-3[*]` in `mrn = PID-3[*] where .4.1 …`) types its relative paths.
    const pathToken = isType(s[1], T.Equals) && isType(s[2], T.Hl7PathToken) ? parseHl7Path(s[2]!.image) : undefined;
    const fieldType = pathToken && 'path' in pathToken
      ? hl7.field(hl7.resolveHl7Version(version)?.version ?? C.DEFAULT_HL7_VERSION, pathToken.path.segment, pathToken.path.field ?? 0)?.dataType
      : undefined;
    const relTyped = /(?<![A-Za-z0-9_\])])(\.\d*(?:\.\d*)?)$/.exec(cur.linePrefix)?.[1];
    if (relTyped && s.some((t) => tokenIs(t, 'where'))) return fieldType ? C.hl7RelativeItems(version, fieldType, relTyped, site.range(cur.offset - relTyped.length)) : [];
    if (isType(s[s.length - 1], T.Arrow)) return fieldType ? C.hl7RelativeItems(version, fieldType, '.', site.range(cur.offset)) : [];
    // `as list` collects every repetition: offered where the path reads them (`[*]`).
    if (tokenIs(s[s.length - 1], 'as')) return C.keywordItems(s.some((t) => isType(t, T.Star) || t.image.includes('[*]')) ? [...CONVERSIONS, 'list'] : CONVERSIONS, 0);
    if (tokenIs(s[s.length - 1], 'each')) return C.hl7PathItems(version, 'A', site.range(cur.wordStart), structureSegments(version, accepted));
    if (s.length >= 2 && isType(s[1], T.Equals)) {
      // Right of `name =`: a path being typed (tokens cannot tell `PID-5.` apart), else what follows a path.
      const afterEquals = textAfter(site, s[1]!);
      if (/^\s*$/.test(afterEquals)) return [...C.hl7PathItems(version, 'A', site.range(cur.offset), structureSegments(version, accepted)), ...C.keywordItems(['each'], 1)];
      if (hl7Typed && afterEquals.trim() === hl7Typed) {
        const items = C.hl7PathItems(version, hl7Typed, site.range(cur.offset - hl7Typed.length), structureSegments(version, accepted));
        return hl7Typed.includes('-') ? items : [...items, ...C.keywordItems(['each'], 1)];
      }
      return C.keywordItems(['where', 'as'], 0);
    }
    return [];
  }
  if (frame.kind === 'settings') return settingsBlock(site, frame, S.senderSpec);

  const first = s[0];
  if (s.length === 0) return settingsBlock(site, frame, S.senderSpec, decl.settings, ['match', 'fields', 'on']);
  if (tokenIs(first, 'accept', 'on')) {
    if (tokenIs(first, 'on') && s.some((t) => tokenIs(t, 'run'))) return tokenIs(s[s.length - 1], 'run') ? C.declarationItems(topDecls(site, 'workflow')) : [];
    const last = s[s.length - 1];
    const afterType = last && (isType(last, T.MessageType) || isType(last, T.Star));
    if (tokenIs(first, 'on') && afterType) return C.keywordItems(['run'], 0);
    const typed = /((?:[A-Z][A-Z0-9]{0,2}|\*)(?:\^[A-Z0-9*]{0,3})?)$/.exec(cur.linePrefix)?.[1] ?? '';
    return C.messageTypeItems(version, site.range(cur.offset - typed.length), tokenIs(first, 'on') ? accepted : []);
  }
  if (tokenIs(first, 'match')) {
    const afterMatch = textAfter(site, first!);
    if (/^\s*$/.test(afterMatch)) return C.hl7PathItems(version, 'MSH-', site.range(cur.offset));
    if (hl7Typed && afterMatch.trim() === hl7Typed) return C.hl7PathItems(version, hl7Typed, site.range(cur.offset - hl7Typed.length), ['MSH']);
    return s.length === 2 ? C.keywordItems(['==', '!=', 'in'], 0) : [];
  }
  if (tokenIs(first, 'version') && s.length === 1) return C.hl7VersionItems();
  return settingValue(site, S.senderSpec, s) ?? [];
}

function senderVersion(decl: A.SenderDecl): string {
  const v = decl.settings.find((x) => x.key.name === 'version')?.values[0];
  return v?.kind === 'string' ? v.value : C.DEFAULT_HL7_VERSION;
}

/** The segments the accepted message types may carry: listed first in segment completion. */
function structureSegments(version: string, accepted: string[]): string[] {
  const v = hl7.resolveHl7Version(version)?.version ?? C.DEFAULT_HL7_VERSION;
  return accepted.flatMap((a) => hl7.messageStructure(v, a)?.segments ?? []);
}

// ---------------------------------------------------------------- workflows and fetch blocks

function body(site: Site, frame: Frame, spec: S.SettingsSpec | undefined, settings: A.Setting[] = []): CompletionItem[] {
  const s = site.cur.statement;
  if (frame.kind === 'object') return objectItems(site, frame);
  if (frame.kind === 'response') return tokenIs(s[s.length - 1], 'as') ? C.keywordItems([...RESPONSE_CONVERSIONS], 0) : [];
  if (s.length === 0) {
    return [
      ...C.keywordItems(STATEMENT_KEYWORDS, 1),
      ...(frame.kind === 'decl' && spec ? C.settingItems(spec, new Set(settings.map((x) => x.key.name))) : []),
      C.snippetItem('search', '${1:name} = search ${2:api} ${3:Patient} { ${4:identifier}: "$5" }', 'FHIR search step'),
      C.snippetItem('for each', 'for each ${1:item} in ${2:list} {\n\t$0\n}', 'loop'),
      C.snippetItem('if', 'if ${1:condition} {\n\t$0\n}', 'condition'),
    ];
  }
  return statement(site, s) ?? [];
}

/** What may follow the tokens of a statement typed so far. */
function statement(site: Site, s: IToken[]): CompletionItem[] | undefined {
  let i = 0;
  if (s.length >= 2 && isType(s[1], T.Equals)) i = 2; // `name = …`
  else if (tokenIs(s[0], 'let') && isType(s[2], T.Equals)) return expressionItems(site, textAfter(site, s[2]!));
  const verb = s[i];
  const rest = s.slice(i + 1);
  const inLaunch = site.cur.decl?.kind === 'launch';
  if (i === 2 && !verb) return C.keywordItems(inLaunch ? ['read', 'search'] : [...FHIR_VERBS, ...REST_VERBS.filter((v) => !FHIR_VERBS.includes(v))], 0);
  // `delete`/`patch API "/path"` are REST calls; `patch API Type …` a FHIR patch.
  const restForm = tokenIs(verb, 'delete', 'patch') && (isType(rest[1], T.StringLiteral) || (rest.length === 1 && apisOfKind(site, 'rest').some((a) => a.name === rest[0]!.image)));
  if (tokenIs(verb, ...FHIR_VERBS) && !restForm) {
    const apis = inLaunch ? [] : apisOfKind(site, 'fhir');
    if (rest.length === 0 && tokenIs(verb, 'patch')) return [...C.declarationItems([...apis, ...apisOfKind(site, 'rest')]), ...C.resourceTypeItems()];
    if (rest.length === 0) return [...C.declarationItems(apis), ...C.resourceTypeItems()];
    if (rest.length === 1 && apis.some((a) => a.name === rest[0]!.image)) return C.resourceTypeItems();
    const typeTok = rest.find((t) => /^[A-Z]/.test(t.image) && fhir.isResourceType(t.image));
    const last = s[s.length - 1]!;
    if (tokenIs(verb, 'create', 'update', 'patch') && typeTok === last) return C.keywordItems(tokenIs(verb, 'create') ? ['body'] : ['where', 'body'], 0);
    if (tokenIs(verb, 'search') && typeTok === last) return C.keywordItems(['pages'], 1);
    if (tokenIs(last, 'body', 'where')) return [];
    return typeTok && !tokenIs(verb, 'search') ? expressionItems(site, textAfter(site, typeTok)) : [];
  }
  if (tokenIs(verb, ...REST_VERBS)) {
    if (rest.length === 0) return C.declarationItems([...apisOfKind(site, 'rest'), ...apisOfKind(site, 'fhir')]);
    if (rest.length >= 2) return C.keywordItems(['query', 'headers', 'body', 'response'], 0);
    return [];
  }
  if (tokenIs(verb, 'reject')) return rest.length === 0 ? C.keywordItems(['AE', 'AR'], 0) : expressionItems(site, textAfter(site, rest[0]!));
  if (tokenIs(verb, 'send')) {
    if (tokenIs(s[s.length - 1], 'to')) return C.declarationItems(topDecls(site, 'api'));
    if (rest.length === 0) return [...C.keywordItems(['message'], 0), ...expressionItems(site, '')];
    return rest.some((t) => tokenIs(t, 'to')) ? C.keywordItems(['path'], 0) : [...C.keywordItems(['to'], 0), ...expressionItems(site, textAfter(site, verb!))];
  }
  if (tokenIs(verb, 'for')) {
    if (rest.length === 0) return C.keywordItems(['each'], 0);
    if (rest.length === 2) return C.keywordItems(['in'], 0);
    if (rest.length >= 3) return expressionItems(site, textAfter(site, rest[2]!));
    return [];
  }
  if (tokenIs(verb, 'store')) {
    if (tokenIs(s[s.length - 1], 'key')) return expressionItems(site, '');
    if (isType(s[s.length - 1], T.StringLiteral)) return C.keywordItems(['key'], 0);
    return [...expressionItems(site, textAfter(site, verb!)), ...(rest.length ? C.keywordItems(['in'], 1) : [])];
  }
  if (tokenIs(verb, 'if', 'else')) return expressionItems(site, textAfter(site, verb!));
  if (tokenIs(verb, 'when')) return expressionItems(site, textAfter(site, verb!));
  return undefined;
}

/** Text from just after token t to the cursor (an expression being typed). */
function textAfter(site: Site, t: IToken): string {
  return site.cur.text.slice((t.endOffset ?? t.startOffset) + 1, site.cur.offset);
}

/** Inside `{ … }`: search parameters, resource elements as keys, or an expression as a value. */
function objectItems(site: Site, frame: Frame): CompletionItem[] {
  const s = site.cur.statement;
  const colon = s.findIndex((t) => isType(t, T.Colon));
  if (colon >= 0) return expressionItems(site, textAfter(site, s[colon]!));
  if (s.length > 1) return [];
  const owner = frame.owner;
  const start = owner.findIndex((t) => tokenIs(t, ...FHIR_VERBS));
  const verb = owner[start];
  const type = owner.slice(start + 1).find((t) => fhir.isResourceType(t.image))?.image;
  if (!verb || !type) return [];
  const used = new Set(usedKeys(site, frame));
  if (tokenIs(verb, 'search') && frame.keyPath.length === 0) return C.searchParamItems(type, used);
  const inBody = owner.some((t) => tokenIs(t, 'body'));
  if (tokenIs(verb, 'create', 'update', 'patch') && inBody) {
    const elements = C.elementsAt(type, frame.keyPath.join('.'));
    return C.elementItems(elements, true).filter((i) => !used.has(i.label));
  }
  return [];
}

/** Keys already written in the object around the cursor. */
function usedKeys(site: Site, frame: Frame): string[] {
  const text = site.cur.text.slice(frame.open.startOffset, site.cur.offset);
  return [...text.matchAll(/[{,\n]\s*"?([A-Za-z_][\w:.-]*)"?\s*:/g)].map((m) => m[1]!);
}

// ---------------------------------------------------------------- expressions

/** Variables, functions and literals; after `name.` the fields of what name holds. */
function expressionItems(site: Site, typed: string): CompletionItem[] {
  const member = /([A-Za-z_][A-Za-z0-9_]*(?:\[(?:\d+|\*)\]|\.[A-Za-z_][A-Za-z0-9_]*|\.\d+)*)\.([A-Za-z_][A-Za-z0-9_]*)?$/.exec(typed);
  const sc = scope(site);
  if (member) return memberItems(sc.variables, member[1]!);
  if (/[0-9"]$/.test(typed)) return [];
  const builtins = site.cur.decl?.kind === 'launch' ? LAUNCH_BUILTINS : site.cur.decl?.kind === 'workflow' ? builtinsIn.workflow : [];
  // A workflow a module block runs (`bulk … { on Patient run W }`) also has the module's inputs.
  const decl = site.cur.decl;
  const inputs = decl?.kind === 'workflow' ? moduleRunInputs([...site.analysis.files.values()]).get(decl.name.name) ?? {} : {};
  return [
    ...C.declarationItems(sc.variables),
    ...builtins.map((b) => ({ label: b, kind: CompletionItemKind.Variable, detail: builtinDoc(b) ?? 'built-in', sortText: '1' })),
    ...Object.entries(inputs).map(([name, input]) => ({ label: name, kind: CompletionItemKind.Variable, detail: input.doc, sortText: '1' })),
    ...C.functionItems(),
    ...C.valueMapItems(site.analysis.project.symbols?.valueMaps),
    ...C.keywordItems(['true', 'false', 'null', 'not'], 4),
  ];
}

function memberItems(variables: Declaration[], chain: string): CompletionItem[] {
  const root = /^[A-Za-z_][A-Za-z0-9_]*/.exec(chain)![0];
  const rest = chain.slice(root.length).replace(/^\./, '').replace(/\.(\d+)/g, '[$1]');
  const v = [...variables].reverse().find((d) => d.name === root);
  if (!v && !rest && Object.hasOwn(builtinFields, root)) return builtinFields[root as keyof typeof builtinFields].map((k) => ({ label: k, kind: CompletionItemKind.Field, detail: `field of ${root}` }));
  if (!v) return [];
  if (v.resourceType && fhir.isResourceType(v.resourceType)) {
    const base = v.search ? 'Bundle' : v.resourceType;
    return C.elementItems(C.elementsAt(base, rest, v.resourceType), false);
  }
  if (v.keys && !rest) return v.keys.map((k) => ({ label: k, kind: CompletionItemKind.Field, detail: `field of ${root}` }));
  return [];
}

// ---------------------------------------------------------------- launches and tests

function launch(site: Site, decl: A.LaunchDecl, frame: Frame): CompletionItem[] {
  const s = site.cur.statement;
  const loginKind = (f: Frame) => f.head[1]?.image ?? '';
  const inFetch = site.cur.frames.some((f) => tokenIs(f.head[0], 'fetch'));
  if (inFetch) return body(site, frame, undefined);
  if (frame.kind === 'object') return objectItems(site, frame).concat();
  if (frame.kind === 'redirect') {
    if (s.length === 0) return C.keywordItems(['when', 'otherwise'], 0);
    if (tokenIs(s[s.length - 1], 'to')) return [];
    if (tokenIs(s[0], 'otherwise')) return s.length === 1 ? C.keywordItems(['to'], 0) : C.keywordItems(['with'], 0);
    return [...expressionItems(site, textAfter(site, s[0]!)), ...C.keywordItems(['to'], 0)];
  }
  if (frame.kind === 'settings' && tokenIs(frame.head[0], 'login')) {
    const spec = S.loginSpecs[loginKind(frame)] ?? {};
    if (s.length === 0) return [...C.settingItems(spec, new Set()), ...C.keywordItems(['require', 'map'], 1)];
    if (tokenIs(s[0], 'require')) return expressionItems(site, textAfter(site, s[0]!));
    return settingValue(site, spec, s) ?? [];
  }
  if (s.length === 0) return settingsBlock(site, frame, S.launchSpec, decl.settings, ['login', 'fetch', 'map', 'redirect']);
  if (tokenIs(s[0], 'login') && s.length === 1) return C.keywordItems(Object.keys(S.loginSpecs), 0);
  return settingValue(site, S.launchSpec, s) ?? [];
}

function testBody(site: Site, frame: Frame): CompletionItem[] {
  const s = site.cur.statement;
  if (frame.kind === 'object') return expressionOrKey(site);
  if (s.length === 0) return C.keywordItems(['send', 'launch', 'mock', 'expect'], 0);
  const first = s[0]!;
  const last = s[s.length - 1]!;
  if (tokenIs(first, 'send')) return tokenIs(last, 'to') ? C.declarationItems(topDecls(site, 'sender')) : s.length >= 2 && !s.some((t) => tokenIs(t, 'to')) ? C.keywordItems(['to'], 0) : [];
  if (tokenIs(first, 'launch')) return s.length === 1 ? C.declarationItems(topDecls(site, 'launch')) : s.length === 2 ? C.keywordItems(['with'], 0) : [];
  if (tokenIs(first, 'mock')) {
    if (s.length === 1) return [...C.declarationItems(topDecls(site, 'api')), ...C.keywordItems(['step'], 1)];
    if (tokenIs(s[1], 'step')) return s.length === 2 ? C.declarationItems(allDecls(site, 'step')) : C.keywordItems(['returns', 'status'], 0);
    if (s.length === 2 && apisOfKind(site, 'fhir').some((a) => a.name === s[1]!.image)) return C.resourceTypeItems();
    return C.keywordItems(['returns', 'status'], 0);
  }
  if (tokenIs(first, 'expect')) {
    if (s.length === 1) return C.keywordItems(['ack', 'field', 'request', 'no', 'stored', 'redirect'], 0);
    if (tokenIs(s[1], 'ack') && s.length === 2) return C.keywordItems(ACK_CODES, 0);
    if (tokenIs(s[1], 'field') && s.length === 2) return C.declarationItems(allDecls(site, 'field'));
    if (tokenIs(s[1], 'no') && s.length === 2) return C.keywordItems(['request'], 0);
    if (tokenIs(last, 'request')) return C.declarationItems(topDecls(site, 'api'));
    return [];
  }
  return [];
}

function expressionOrKey(site: Site): CompletionItem[] {
  const s = site.cur.statement;
  const colon = s.findIndex((t) => isType(t, T.Colon));
  return colon >= 0 ? expressionItems(site, textAfter(site, s[colon]!)) : [];
}

// ---------------------------------------------------------------- project lookups

function scope(site: Site) {
  return scopeAt(site.analysis.project, site.path, site.at);
}

function topDecls(site: Site, kind: SymbolKind): Declaration[] {
  return (site.analysis.project.symbols?.declarations ?? []).filter((d) => d.kind === kind && d.container === undefined);
}

function allDecls(site: Site, kind: SymbolKind): Declaration[] {
  return (site.analysis.project.symbols?.declarations ?? []).filter((d) => d.kind === kind);
}

function apisOfKind(site: Site, kind: string): Declaration[] {
  const kinds = new Map<string, string>();
  for (const f of site.analysis.files.values()) for (const d of f.decls) if (d.kind === 'api') kinds.set(d.name.name, d.apiKind.name);
  return topDecls(site, 'api').filter((d) => kinds.get(d.name) === kind);
}
