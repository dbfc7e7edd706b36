// The language's words, declared once: top-level declarations, the statements of each block
// (keyword, what may follow, verbs) and the words inside expressions. The parser's "expected"
// messages, completion, the TextMate grammar's keyword patterns and docs/language.md's reference
// read them from here (npm run gen regenerates the grammar and the docs; gen:check keeps them current).
import { moduleSpecs } from './module-spec.ts';
import { apiKinds, authKinds } from './enumerations.ts';

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
  { keyword: 'auth', in: 'file', follows: 'NAME KIND { settings }', verbs: Object.keys(authKinds), doc: 'How requests to an API authenticate.' },
  { keyword: 'api', in: 'file', follows: 'NAME KIND "base URL" [{ settings }]', verbs: Object.keys(apiKinds), doc: 'A server the workflows call.' },
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
/** Words that continue a statement (not its first word), with what each does (hover reads these). */
export const clauses = {
  else: 'The branch run when the if condition is false: else { … } or else if COND { … }.',
  each: 'for each NAME in LIST { … } repeats for every item; in fields, NAME = each SEG { … } reads every repetition of a segment as a group.',
  to: 'Where something goes: send … to API, send … to SENDER in a test, redirect … to "URL".',
  key: 'store … in "collection" key EXPR: the record replaces the one stored under the same key.',
  run: 'on TYPE^TRIGGER run WORKFLOW: the workflow run for those message types.',
  where: 'PATH where COND -> COMPONENTS: the first repetition for which the condition holds (paths in it start with a dot).',
  as: 'NAME = PATH as CONVERSION: how the text is read (date, datetime, number, raw, list); in a response block, a field\'s type.',
  when: 'redirect { when COND to "URL" … }: the first rule whose condition holds decides where the browser goes.',
  otherwise: 'redirect { … otherwise to "URL" }: where the browser goes when no rule holds.',
  with: 'Query parameters added to a redirect, or the context a test launches with.',
  require: 'login { require COND }: the sign-in is refused unless the condition holds.',
  returns: 'mock … returns VALUE: the canned answer a test gives instead of the API.',
  status: 'mock … status N: the HTTP status of the canned answer.',
  ack: 'expect ack CODE: the ACK code the test expects (AA, AE, AR, CA, CE, CR).',
  field: 'expect field NAME == VALUE: the value a mapped field must have.',
  request: 'expect request API …: a request the workflow must have made; expect no request API: one it must not.',
  no: 'expect no request API: a request the workflow must not have made.',
  stored: 'expect stored "collection" …: records the workflow must have stored.',
  step: 'mock step NAME returns VALUE: the canned result of one step of the workflow.',
  body: 'The request body: a FHIR resource for create/update, JSON for a REST call.',
  query: 'A REST request\'s query parameters: query { name: VALUE }.',
  headers: 'A REST request\'s headers: headers { "Name": VALUE }.',
  pages: 'search … pages N: follows the Bundle\'s next links up to N pages.',
  if_none_exist: 'create … if_none_exist { params }: a conditional create (If-None-Exist).',
  path: 'The URL path of a request, or the path a sender is served on.',
  message: 'The received HL7 v2 message: send message to API forwards it; message.controlId and the like read its header.',
} as const;
export const clauseWords = Object.keys(clauses) as Array<keyof typeof clauses>;

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
