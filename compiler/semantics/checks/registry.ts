// Checks by node kind: each check reads one node (and the resolved names) and reports; none
// lowers anything. They run after resolution, over every node of every file, in the Checked
// stage. Lowering (lower/) keeps only the checks that need what it computes (types, the plan).
import type * as A from '../../syntax/ast.ts';
import { expressionKinds, walk, type AnyNode, type NodeKind, type NodeOfKind } from '../../syntax/visit.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable } from '../symbols.ts';
import type { ResolvedNames } from '../resolve.ts';
import { workflowChecks } from './workflow-checks.ts';
import { senderChecks } from './sender-checks.ts';
import { statementChecks } from './statement-checks.ts';
import { testChecks } from './test-checks.ts';
import { launchChecks } from './launch-checks.ts';

export interface CheckContext {
  /** Reports against the file being checked. */
  r: Reporter;
  file: string;
  symbols: SymbolTable;
  names: ResolvedNames;
  /** The nodes enclosing this one, outermost first (its declaration is ancestors[0]). */
  ancestors: readonly AnyNode[];
}

export type Check<K extends NodeKind> = (node: NodeOfKind<K>, ctx: CheckContext) => void;
export type CheckRegistry = { [K in NodeKind]?: Array<Check<K>> };

/** Merges registries (a module may add checks for its own declarations). */
export function mergeChecks(...registries: CheckRegistry[]): CheckRegistry {
  const out: Record<string, Array<Check<NodeKind>>> = {};
  for (const reg of registries) for (const [kind, list] of Object.entries(reg)) (out[kind] ??= []).push(...(list as Array<Check<NodeKind>>));
  return out as CheckRegistry;
}

/** Kinds found only below statements and clauses: expressions, values, names, settings, fields. */
const leafKinds: ReadonlySet<NodeKind> = new Set<NodeKind>([...expressionKinds, 'ident', 'setting', 'map_entry', 'response', 'response_field', 'field', 'redirect_rule']);
/** Statements and clauses whose children are all leaf kinds. */
const leafHolders: ReadonlySet<NodeKind> = new Set<NodeKind>(['let', 'store', 'send', 'reject', 'request', 'match', 'route', 'mock', 'expect', 'login', 'redirect', 'import', 'map', 'auth', 'api', 'module']);

export const checks: CheckRegistry = mergeChecks(workflowChecks, senderChecks, statementChecks, testChecks, launchChecks);

/** Runs the checks of one declaration (`run`), or reports what they found last time instead. */
export type PerDeclaration = (d: A.Decl, run: () => void) => void;

export function runChecks(files: A.SourceFile[], context: { root: Reporter; symbols: SymbolTable; names: ResolvedNames }, registry: CheckRegistry = checks, perDecl: PerDeclaration = (_d, run) => run()): void {
  // Expressions, names, settings and fields are most of a tree: unless a check reads such nodes,
  // the walk visits the statements and clauses that hold them but does not go below.
  const readsLeaves = Object.keys(registry).some((k) => leafKinds.has(k as NodeKind));
  const into = readsLeaves ? undefined : (n: AnyNode) => !leafKinds.has(n.kind) && !leafHolders.has(n.kind);
  for (const f of files) {
    const r = context.root.for(f.file);
    for (const d of f.decls) {
      perDecl(d, () => walk({ ...f, decls: [d] }, (node, ancestors) => {
        const list = registry[node.kind] as Array<Check<NodeKind>> | undefined;
        if (!list) return;
        const ctx: CheckContext = { r, file: f.file, symbols: context.symbols, names: context.names, ancestors };
        for (const check of list) check(node as NodeOfKind<NodeKind>, ctx);
      }, into));
    }
  }
}
