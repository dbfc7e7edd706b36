// Generic traversal of the compiler's AST: every object with a `range` is a node. Walking by shape
// rather than by kind keeps the server in step with the parser as the language grows.
import type { Node, Range, SourceFile } from '../compiler/syntax/ast.ts';

const isNode = (v: unknown): v is Node & Record<string, unknown> =>
  typeof v === 'object' && v !== null && 'range' in v && typeof (v as Node).range === 'object' && (v as Node).range !== null && 'start' in (v as Node).range;

/** Calls visit for every node under root (root excluded), parents before children; ancestors is the path from root. */
export function walk(root: object, visit: (node: Node & Record<string, unknown>, ancestors: readonly Node[]) => void): void {
  const ancestors: Node[] = [];
  const visitValue = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) visitValue(item);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (isNode(v)) {
      visit(v, ancestors);
      ancestors.push(v);
      for (const [k, child] of Object.entries(v)) if (k !== 'range') visitValue(child);
      ancestors.pop();
    } else {
      for (const child of Object.values(v)) visitValue(child);
    }
  };
  for (const [k, child] of Object.entries(root)) if (k !== 'range' && k !== 'comments') visitValue(child);
}

/** The chain of nodes whose range holds offset (end inclusive), outermost first. */
export function nodesAt(file: SourceFile, offset: number): Array<Node & Record<string, unknown>> {
  const chain: Array<Node & Record<string, unknown>> = [];
  const inside = (r: Range) => r.start.offset <= offset && offset <= r.end.offset;
  const descend = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) descend(item);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (isNode(v)) {
      if (!inside(v.range)) return;
      chain.push(v);
      for (const [k, child] of Object.entries(v)) if (k !== 'range') descend(child);
    } else {
      for (const child of Object.values(v)) descend(child);
    }
  };
  for (const d of file.decls) descend(d);
  return chain;
}
