// The compiler counts lines and columns from 1 with an exclusive end; LSP counts from 0. Both count
// UTF-16 code units (chevrotain indexes JavaScript strings), so only the base differs.
import type { Position as LspPosition, Range as LspRange } from 'vscode-languageserver';
import type { Position, Range } from '../compiler/syntax/ast.ts';

export const toLspPosition = (p: Position): LspPosition => ({ line: p.line - 1, character: p.col - 1 });
export const toLspRange = (r: Range): LspRange => ({ start: toLspPosition(r.start), end: toLspPosition(r.end) });

/** True when offset lies inside r, its end included (the cursor just after a name still touches it). */
export const touches = (r: Range, offset: number): boolean => r.start.offset <= offset && offset <= r.end.offset;
