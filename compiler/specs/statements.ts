// The language's words, declared once: top-level declarations, the statements of each block
// (keyword, what may follow, verbs) and the words inside expressions. The parser's "expected"
// messages, completion, the TextMate grammar's keyword patterns and docs/language.md's reference
// read them from here (npm run gen regenerates the grammar and the docs; gen:check keeps them current).
import { moduleSpecs } from './module-spec.ts';

export type BlockKind = 'file' | 'sender' | 'workflow' | 'launch' | 'test';

export interface StatementSpec {
  /** The word that starts it (two words for `smart launch`). */
  keyword: string;
  /** The block it is written in. */
  in: BlockKind;
  /** What follows the keyword, as a pattern (NAME, "string", { … }). */
  follows: string;
  /** Words that choose the statement's form (request verbs, expect kinds). */
  verbs?: readonly string[];
  doc: string;
}

export const fhirVerbs = ['read', 'search', 'create', 'update', 'patch', 'delete'] as const;
export const httpVerbs = ['get', 'post', 'put', 'patch', 'delete'] as const;
export const expectKinds = ['ack', 'field', 'request', 'no request', 'stored', 'redirect'] as const;

export const statements: readonly StatementSpec[] = [
  // A file
  { keyword: 'import', in: 'file', follows: '"path.hdc"', doc: 'Reads another file\'s declarations (relative to this file).' },
  { keyword: 'store', in: 'file', follows: 'postgres env("DATABASE_URL") | sqlite', verbs: ['postgres', 'sqlite'], doc: 'Where the runtime keeps its journal and workflow queue: PostgreSQL shared by several runtimes, or SQLite (the default).' },
  { keyword: 'auth', in: 'file', follows: 'NAME KIND { settings }', verbs: ['basic', 'bearer', 'oauth2', 'smart_backend'], doc: 'How requests to an API authenticate.' },
  { keyword: 'api', in: 'file', follows: 'NAME KIND "base URL" [{ settings }]', verbs: ['fhir', 'rest', 'hl7'], doc: 'A server the workflows call.' },
  { keyword: 'sender', in: 'file', follows: 'NAME { settings, match, fields, on … run }', doc: 'A partner that posts HL7 v2 messages.' },
  { keyword: 'workflow', in: 'file', follows: 'NAME { statements }', doc: 'The steps run for a routed message.' },
  { keyword: 'smart launch', in: 'file', follows: 'NAME { settings, login, fetch, map, redirect }', doc: 'A SMART on FHIR app launch.' },
  { keyword: 'map', in: 'file', follows: 'NAME [to "system"] { "in": "out", …, else: "out" }', doc: 'A value map.' },
  { keyword: 'transform', in: 'file', follows: 'NAME(param: TYPE, …) -> FhirType [version "2.5.1"] { [let …] element: EXPR, … } | NAME extends BASE [version "…"] { … }', doc: 'An HL7 v2 → FHIR mapping, checked against R4 and callable from workflows and transforms.' },
  { keyword: 'test', in: 'file', follows: '"name" { send/launch, mock, expect }', doc: 'A test run by hdc test.' },
  // A sender
  { keyword: 'match', in: 'sender', follows: 'MSH-N (== | !=) "value", …', doc: 'Tells senders sharing a path apart by the MSH.' },
  { keyword: 'fields', in: 'sender', follows: '{ NAME = PATH [where …] [as CONVERSION] [-> MAP], … }', doc: 'The values the workflows read.' },
  { keyword: 'on', in: 'sender', follows: 'TYPE^TRIGGER, … run WORKFLOW', doc: 'Routes message types to a workflow.' },
  // A workflow (and a launch's fetch block)
  { keyword: 'let', in: 'workflow', follows: 'NAME = EXPR', doc: 'Defines a variable.' },
  { keyword: 'if', in: 'workflow', follows: 'EXPR { … } [else { … }]', doc: 'Runs a branch.' },
  { keyword: 'for', in: 'workflow', follows: 'each NAME in EXPR { … }', doc: 'Runs the body for each item.' },
  { keyword: 'store', in: 'workflow', follows: 'EXPR in "collection" [key EXPR]', doc: 'Keeps a record in the journal.' },
  { keyword: 'send', in: 'workflow', follows: '(message | EXPR) to API [path EXPR]', doc: 'Forwards the message or a value.' },
  { keyword: 'reject', in: 'workflow', follows: 'AE|AR "text"', doc: 'Answers the message with an error ACK.' },
  { keyword: 'read', in: 'workflow', follows: '[NAME =] VERB API Type …', verbs: fhirVerbs, doc: 'A FHIR interaction.' },
  { keyword: 'get', in: 'workflow', follows: '[NAME =] VERB API "path" { query, headers, body, response }', verbs: httpVerbs, doc: 'A REST request.' },
  // A launch
  { keyword: 'login', in: 'launch', follows: 'METHOD { settings, require, map }', verbs: ['oidc', 'ldap', 'users', 'postgres'], doc: 'Signs the user in before the app opens.' },
  { keyword: 'fetch', in: 'launch', follows: '{ read/search, let, if }', doc: 'FHIR reads with the launch\'s token.' },
  { keyword: 'redirect', in: 'launch', follows: '{ when EXPR to "https://…" [with { … }] … otherwise to "https://…" }', doc: 'Where the browser goes.' },
  // A test
  { keyword: 'send', in: 'test', follows: '(file("path") | "message") to SENDER', doc: 'The message the test posts to a sender.' },
  { keyword: 'launch', in: 'test', follows: 'NAME with { context } [user { claims }]', doc: 'Starts a SMART launch with this context.' },
  { keyword: 'mock', in: 'test', follows: '(API [Type] | step NAME) [METHOD "path"] returns EXPR [status N]', doc: 'A canned answer.' },
  { keyword: 'expect', in: 'test', follows: 'KIND …', verbs: expectKinds, doc: 'What the run must have done.' },
];

/** Words inside expressions. */
export const operatorWords = ['and', 'or', 'not', 'in'] as const;
export const literalWords = ['true', 'false', 'null'] as const;
/** env("NAME") and file("path"): deployment values. */
export const valueFunctions = ['env', 'file'] as const;
/** Words that continue a statement (not its first word). */
export const clauseWords = [
  'else', 'each', 'to', 'key', 'run', 'where', 'as', 'when', 'otherwise', 'with', 'require', 'returns', 'status',
  'ack', 'field', 'request', 'no', 'stored', 'step', 'body', 'query', 'headers', 'pages', 'if_none_exist', 'path', 'message',
] as const;

/** The statement (inside a block) a keyword starts: `read` stands for every FHIR verb, `get` for every REST one. */
export function blockStatement(keyword: string): StatementSpec | undefined {
  return statements.find((s) => s.keyword === keyword && s.in !== 'file');
}

/** The words that start a statement in a block (for a workflow, every request verb too). */
export function statementStarts(block: BlockKind): string[] {
  return [...new Set(statements.filter((s) => s.in === block).flatMap((s) => (s.verbs && block === 'workflow' ? [...s.verbs] : [s.keyword])))];
}

/** The words that start a top-level declaration, module keywords included. */
export function declarationKeywords(): string[] {
  return [...statements.filter((s) => s.in === 'file').map((s) => s.keyword.split(' ')[0]!), ...moduleSpecs().flatMap((m) => m.declarations.map((d) => d.keyword))];
}
