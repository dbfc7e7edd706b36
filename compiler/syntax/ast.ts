// The abstract syntax tree. Every node carries the exact source range it came from, so checks,
// the plan (`src`) and the language server can point at the text.
import type { Hl7Path } from '../../plan/plan.types.ts';

export interface Position { line: number; col: number; offset: number }
/** 1-based line/column; `end` is exclusive. */
export interface Range { start: Position; end: Position }

export interface Node { range: Range }
export interface Ident extends Node { kind: 'ident'; name: string }
export interface Comment extends Node { kind: 'comment'; text: string; block: boolean }

export interface SourceFile {
  kind: 'source';
  file: string;
  text: string;
  decls: Decl[];
  comments: Comment[];
  range: Range;
}

export type Decl = ImportDecl | AuthDecl | ApiDecl | SenderDecl | WorkflowDecl | LaunchDecl | TestDecl | MapDecl | ModuleDecl | TransformDecl | StoreDecl;

/**
 * `transform NAME(param: TYPE, …) -> ResultType { let x = …  element: value … }` or
 * `transform NAME extends BASE { element: value … }`. A parameter's TYPE is `message`, a segment
 * ID (PID), `each SEG` (a repeating group), an HL7 data type (CX, XPN) or `value`.
 */
export interface TransformDecl extends Node {
  kind: 'transform';
  name: Ident;
  params: TransformParamDecl[];
  result?: Ident;
  extends?: Ident;
  lets: TransformLet[];
  body: ObjectExpr;
  /** `transform NAME(x: value) -> uri = EXPR`: a value, not an object (then body has no entries). */
  value?: Expr;
  /** `version "2.5.1"` after the result (or the base): the HL7 version its paths are checked against. */
  version?: { value: string; range: Range };
}
export interface TransformParamDecl extends Node { kind: 'transform-param'; name: Ident; type: Ident; each?: boolean }
export interface TransformLet extends Node { kind: 'transform-let'; name: Ident; value: Expr }

/** `store postgres env("DATABASE_URL")` or `store sqlite`: where the runtime keeps its state. */
export interface StoreDecl extends Node { kind: 'store_decl'; storeKind: Ident; url?: Atom }

/** `KEYWORD [NAME] [from NAME] { settings }`: a declaration a module adds (compiler/specs/module-spec.ts). */
export interface ModuleDecl extends Node {
  kind: 'module';
  keyword: Ident;
  name?: Ident;
  from?: Ident;
  settings: Setting[];
}

/** `map NAME [to "code system"] { "F": "female", …, else: "unknown" }`: a value map. */
export interface MapDecl extends Node {
  kind: 'map';
  name: Ident;
  system?: StringLit;
  entries: MapEntry[];
  /** The value for inputs not listed; the `else` keyword's range is elseRange. */
  else?: StringLit;
  elseRange?: Range;
}
export interface MapEntry extends Node { kind: 'map_entry'; key: StringLit; value: StringLit }

export interface ImportDecl extends Node { kind: 'import'; path: StringLit }

/** A generic `name atom, atom … { settings }` line inside a block. */
export interface Setting extends Node {
  kind: 'setting';
  key: Ident;
  values: Atom[];
  block?: Setting[];
}
export type Atom =
  | StringLit
  | { kind: 'number'; value: number; range: Range }
  | { kind: 'duration'; ms: number; text: string; range: Range }
  | { kind: 'name'; name: string; range: Range }
  | { kind: 'msgtype'; code: string; trigger: string; text: string; range: Range }
  | { kind: 'star'; range: Range }
  | { kind: 'hl7path'; path: Hl7Path; range: Range }
  | EnvCall
  | FileCall;

export interface StringLit extends Node { kind: 'string'; value: string; raw: string }
export interface EnvCall extends Node { kind: 'env'; name: StringLit; default?: StringLit }
export interface FileCall extends Node { kind: 'file'; path: StringLit | EnvCall }

export interface AuthDecl extends Node { kind: 'auth'; name: Ident; authKind: Ident; settings: Setting[] }
export interface ApiDecl extends Node { kind: 'api'; name: Ident; apiKind: Ident; baseUrl: Atom; settings: Setting[] }

export interface SenderDecl extends Node {
  kind: 'sender';
  name: Ident;
  settings: Setting[];
  matches: MatchClause[];
  fields: FieldDecl[];
  fieldsRange?: Range;
  routes: RouteDecl[];
}
export interface MatchClause extends Node { kind: 'match'; path: Atom & { kind: 'hl7path' }; op: '==' | '!='; values: StringLit[] }
export interface RouteDecl extends Node { kind: 'route'; types: Array<Atom & { kind: 'msgtype' | 'star' }>; workflow: Ident }

export interface FieldDecl extends Node {
  kind: 'field';
  name: Ident;
  path?: Atom & { kind: 'hl7path' };
  where?: Expr;
  select?: { components: number[]; range: Range };
  as?: Ident;
  /** `-> NAME`: the value map applied to the value read. */
  map?: Ident;
  each?: Ident;
  fields?: FieldDecl[];
}

export interface WorkflowDecl extends Node { kind: 'workflow'; name: Ident; settings: Setting[]; body: Stmt[] }

export type Stmt = RequestStmt | IfStmt | ForStmt | LetStmt | StoreStmt | SendStmt | RejectStmt | ErrorStmt;
export interface ErrorStmt extends Node { kind: 'error' }

export type FhirVerb = 'read' | 'search' | 'create' | 'update' | 'patch' | 'delete';
export type HttpVerb = 'get' | 'post' | 'put' | 'patch' | 'delete';
export interface RequestStmt extends Node {
  kind: 'request';
  target?: Ident;
  protocol: 'fhir' | 'rest';
  verb: FhirVerb | HttpVerb;
  verbRange: Range;
  api?: Ident;
  resourceType?: Ident;
  id?: Expr;
  params?: ObjectExpr;
  conditional?: ObjectExpr;
  pages?: { value: number; range: Range };
  urlPath?: Expr;
  query?: Expr;
  headers?: Expr;
  body?: Expr;
  /** rest: the declared shape of the response (`response { total = data.count as number }`). */
  response?: ResponseDecl;
}
export interface ResponseDecl extends Node { kind: 'response'; fields: ResponseFieldDecl[] }
/** `name = PATH [as CONVERSION] [optional]` or `name = each PATH { … } [optional]`. */
export interface ResponseFieldDecl extends Node {
  kind: 'response_field';
  name: Ident;
  path: Expr;
  as?: Ident;
  /** `each PATH { … }`: the path is a list, every item read with `fields`. */
  each?: boolean;
  fields?: ResponseFieldDecl[];
  optional?: boolean;
}
export interface IfStmt extends Node { kind: 'if'; cond: Expr; then: Stmt[]; else?: Stmt[]; elseRange?: Range }
export interface ForStmt extends Node { kind: 'for'; variable: Ident; over: Expr; body: Stmt[] }
/** `let name = value` defines a variable; with `assign`, `name = value` gives a defined one a new value. */
export interface LetStmt extends Node { kind: 'let'; name: Ident; value: Expr; assign?: boolean }
export interface StoreStmt extends Node { kind: 'store'; value: Expr; collection: StringLit; key?: Expr }
export interface SendStmt extends Node { kind: 'send'; value: Expr | 'message'; valueRange: Range; api: Ident; urlPath?: Expr }
export interface RejectStmt extends Node { kind: 'reject'; code: Ident; text: Expr }

export interface LaunchDecl extends Node {
  kind: 'launch';
  name: Ident;
  settings: Setting[];
  login?: LoginDecl;
  fetch: Stmt[];
  fetchRange?: Range;
  map?: ObjectExpr;
  redirect?: RedirectDecl;
}
export interface LoginDecl extends Node { kind: 'login'; method: Ident; settings: Setting[]; require?: Expr; map?: ObjectExpr }
export interface RedirectDecl extends Node { kind: 'redirect'; rules: RedirectRuleDecl[]; otherwise?: RedirectRuleDecl }
export interface RedirectRuleDecl extends Node { kind: 'redirect_rule'; when?: Expr; to: StringLit; with?: ObjectExpr }

export interface TestDecl extends Node { kind: 'test'; name: StringLit; body: TestStmt[] }
export type TestStmt = TestSend | TestLaunch | TestMock | TestExpect | ErrorStmt;
export interface TestSend extends Node { kind: 'send'; message: StringLit | FileCall; sender: Ident }
export interface TestLaunch extends Node { kind: 'launch'; launch: Ident; context: ObjectExpr; user?: ObjectExpr }
export interface TestMock extends Node {
  kind: 'mock';
  api?: Ident;
  step?: Ident;
  resourceType?: Ident;
  method?: Ident;
  urlPath?: StringLit;
  returns?: Expr | FileCall;
  status?: { value: number; range: Range };
}
export interface TestExpect extends Node {
  kind: 'expect';
  what: 'ack' | 'field' | 'request' | 'no_request' | 'stored' | 'redirect';
  code?: Ident;
  text?: StringLit;
  name?: Ident;
  collection?: StringLit;
  api?: Ident;
  method?: Ident;
  urlPath?: StringLit;
  /** field: the comparison applied to the value (`== "x"` becomes value == "x"). */
  cond?: Expr;
}

// ---- Expressions -------------------------------------------------------------------------------
export type Expr =
  | LiteralExpr
  | TemplateExpr
  | RefExpr
  | MemberExpr
  | IndexExpr
  | CallExpr
  | BinaryExpr
  | UnaryExpr
  | ObjectExpr
  | ArrayExpr
  | RelExpr
  | SecretExpr
  | Hl7PathExpr
  | ForExpr
  | ErrorExpr;
/** An HL7 path inside a transform body: reads the parameter (or message) holding that segment. */
export interface Hl7PathExpr extends Node { kind: 'hl7path'; path: Hl7Path }
/** `for x in LIST: EXPR`: a list of EXPR for every item (nulls dropped). */
export interface ForExpr extends Node { kind: 'for'; variable: Ident; over: Expr; body: Expr }
export interface LiteralExpr extends Node { kind: 'literal'; value: string | number | boolean | null }
/** A string with `{expr}` interpolations; parts alternate text and expressions. */
export interface TemplateExpr extends Node { kind: 'template'; parts: Array<string | Expr>; raw: string }
export interface RefExpr extends Node { kind: 'ref'; name: string }
export interface MemberExpr extends Node { kind: 'member'; object: Expr; property: Ident }
export interface IndexExpr extends Node { kind: 'index'; object: Expr; index: number | '*'; indexRange: Range }
export interface CallExpr extends Node { kind: 'call'; callee: Ident; args: Expr[] }
export interface BinaryExpr extends Node { kind: 'binary'; op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or' | '+' | '-' | 'in'; left: Expr; right: Expr }
export interface UnaryExpr extends Node { kind: 'unary'; op: 'not' | 'neg'; operand: Expr }
export interface ObjectExpr extends Node { kind: 'object'; entries: Array<{ key: string; keyRange: Range; value: Expr }> }
export interface ArrayExpr extends Node { kind: 'array'; items: Expr[] }
export interface RelExpr extends Node { kind: 'rel'; components: number[] }
export interface SecretExpr extends Node { kind: 'secret'; value: EnvCall | FileCall }
export interface ErrorExpr extends Node { kind: 'error' }
