// Whether two syntax trees mean the same: equal apart from source positions, with the same
// comments (in any order: a comment inside an expression moves before its statement).
import type { SourceFile } from '../syntax/ast.ts';
import { commentText } from './layout.ts';

const positional = new Set(['range', 'keyRange', 'indexRange', 'verbRange', 'valueRange', 'elseRange', 'fieldsRange', 'fetchRange', 'optionalRange']);

export function sameSyntax(a: SourceFile, b: SourceFile): boolean {
  const texts = (f: SourceFile): string => JSON.stringify(f.comments.map(commentText).sort());
  return texts(a) === texts(b) && equal(a.decls, b.decls);
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = (o: object): string[] =>
    Object.keys(o).filter((k) => !positional.has(k) && (o as Record<string, unknown>)[k] !== undefined).sort();
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
