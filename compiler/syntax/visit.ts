// A typed traversal of the AST: each node kind lists its children explicitly, so a new node kind
// is a compile error here (the switch is exhaustive) rather than a node silently skipped.
import type * as A from './ast.ts';

/** Every node of the tree: each has a `kind` and a `range`. */
export type AnyNode =
  | A.Decl | A.Setting | A.Atom | A.Stmt | A.TestStmt | A.Expr | A.Ident
  | A.MapEntry | A.MatchClause | A.RouteDecl | A.FieldDecl | A.ResponseDecl | A.ResponseFieldDecl
  | A.LoginDecl | A.RedirectDecl | A.RedirectRuleDecl | A.TransformParamDecl | A.TransformLet;

/** The kinds of nodes, and the node for each kind (test statements share `send` and `launch`). */
export type NodeKind = AnyNode['kind'];
export type NodeOfKind<K extends NodeKind> = Extract<AnyNode, { kind: K }>;

type Child = AnyNode | undefined | 'message' | Child[];

const isTestSend = (n: A.SendStmt | A.TestSend): n is A.TestSend => 'sender' in n;
const isTestLaunch = (n: A.LaunchDecl | A.TestLaunch): n is A.TestLaunch => !('name' in n);

/** The direct children of a node (in the order its fields are written, which is mostly source order). */
export function children(n: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  const add = (...cs: Child[]) => {
    for (const c of cs) {
      if (c === undefined || c === 'message') continue;
      if (Array.isArray(c)) add(...c);
      else out.push(c);
    }
  };
  switch (n.kind) {
    case 'ident': case 'import': case 'number': case 'duration': case 'name': case 'msgtype':
    case 'star': case 'hl7path': case 'error': case 'literal': case 'ref': case 'rel': case 'string':
      if (n.kind === 'import') add(n.path);
      break;
    case 'module': add(n.keyword, n.name, n.from, n.settings); break;
    case 'store_decl': add(n.storeKind, n.url); break;
    case 'map': add(n.name, n.system, n.entries, n.else); break;
    case 'transform': add(n.name, n.extends, n.params, n.result, n.lets, n.body, n.value); break;
    case 'transform-param': add(n.name, n.type); break;
    case 'transform-let': add(n.name, n.value); break;
    case 'map_entry': add(n.key, n.value); break;
    case 'setting': add(n.key, n.values, n.block); break;
    case 'env': add(n.name, n.default); break;
    case 'file': add(n.path); break;
    case 'auth': add(n.name, n.authKind, n.settings); break;
    case 'api': add(n.name, n.apiKind, n.baseUrl, n.settings); break;
    case 'sender': add(n.name, n.settings, n.matches, n.fields, n.routes); break;
    case 'match': add(n.path, n.values); break;
    case 'route': add(n.types, n.workflow); break;
    case 'field': add(n.name, n.path, n.where, n.as, n.map, n.each, n.fields); break;
    case 'workflow': add(n.name, n.settings, n.body); break;
    case 'request': add(n.target, n.api, n.resourceType, n.id, n.params, n.conditional, n.urlPath, n.query, n.headers, n.body, n.response); break;
    case 'response': add(n.fields); break;
    case 'response_field': add(n.name, n.path, n.as, n.fields); break;
    case 'if': add(n.cond, n.then, n.else); break;
    case 'for': add(n.variable, n.over, n.body); break;
    case 'let': add(n.name, n.value); break;
    case 'store': add(n.value, n.collection, n.key); break;
    case 'send':
      if (isTestSend(n)) add(n.message, n.sender);
      else add(n.value, n.api, n.urlPath);
      break;
    case 'reject': add(n.code, n.text); break;
    case 'launch':
      if (isTestLaunch(n)) add(n.launch, n.context, n.user);
      else add(n.name, n.settings, n.login, n.fetch, n.map, n.redirect);
      break;
    case 'login': add(n.method, n.settings, n.require, n.map); break;
    case 'redirect': add(n.rules, n.otherwise); break;
    case 'redirect_rule': add(n.when, n.to, n.with); break;
    case 'test': add(n.name, n.body); break;
    case 'mock': add(n.api, n.step, n.resourceType, n.method, n.urlPath, n.returns); break;
    case 'expect': add(n.code, n.text, n.name, n.collection, n.api, n.method, n.urlPath, n.cond); break;
    case 'template': for (const p of n.parts) if (typeof p !== 'string') add(p); break;
    case 'member': add(n.object, n.property); break;
    case 'index': add(n.object); break;
    case 'call': add(n.callee, n.args); break;
    case 'binary': add(n.left, n.right); break;
    case 'unary': add(n.operand); break;
    case 'object': for (const e of n.entries) add(e.value); break;
    case 'array': add(n.items); break;
    case 'secret': add(n.value); break;
    default: { const never: never = n; throw new Error(`no children known for ${(never as AnyNode).kind}`); }
  }
  return out;
}

/** Expression and value kinds: nodes below a statement or a setting. */
export const expressionKinds: ReadonlySet<NodeKind> = new Set<NodeKind>([
  'literal', 'template', 'ref', 'member', 'index', 'call', 'binary', 'unary', 'object', 'array', 'rel', 'secret',
  'string', 'number', 'duration', 'name', 'msgtype', 'star', 'hl7path', 'env', 'file',
]);

/**
 * Calls visit for every node under root (root excluded), parents before children; ancestors is the
 * path from root. `into`, when given, says whether to go below a node.
 */
export function walk(root: A.SourceFile | AnyNode, visit: (node: AnyNode, ancestors: readonly AnyNode[]) => void, into?: (node: AnyNode) => boolean): void {
  const ancestors: AnyNode[] = [];
  const descend = (n: AnyNode): void => {
    visit(n, ancestors);
    if (into && !into(n)) return;
    ancestors.push(n);
    for (const c of children(n)) descend(c);
    ancestors.pop();
  };
  for (const c of root.kind === 'source' ? root.decls : children(root)) descend(c);
}

/** The chain of nodes whose range holds offset (end inclusive), outermost first. */
export function nodesAt(file: A.SourceFile, offset: number): AnyNode[] {
  const chain: AnyNode[] = [];
  const descend = (n: AnyNode): void => {
    if (n.range.start.offset > offset || offset > n.range.end.offset) return;
    chain.push(n);
    for (const c of children(n)) descend(c);
  };
  for (const d of file.decls) descend(d);
  return chain;
}
