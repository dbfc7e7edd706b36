// What typing changed since a text was last parsed or analysed, when that leaves the parse and
// the analysis good for completion: a change on the cursor's own line inside its declaration, or
// lines of comments between declarations. Completion then reads that parse and analysis through
// the edit (offsets after it moved), and typing costs no parse and no compile per keystroke.
import * as T from '../compiler/syntax/tokens.ts';
import type * as A from '../compiler/syntax/ast.ts';

export interface LocalEdit {
  /** Where the change starts (the same offset in both texts). */
  at: number;
  /** Where it ends in the earlier text. */
  endBefore: number;
  /** Offsets after the change moved by this much, lines by lineDelta. */
  delta: number;
  lineDelta: number;
  /** The declaration the change is inside (the cursor's), in the earlier parse. */
  decl?: A.Decl;
}

/**
 * The change from `before` (parsed as `file`) to `now` when it is local (see above) for a cursor
 * at `offset` in `now`; undefined when the file must be parsed again.
 */
export function localEdit(file: A.SourceFile, before: string, now: string, offset: number): LocalEdit | undefined {
  if (before === now) return undefined;
  const max = Math.min(before.length, now.length);
  let a = 0;
  while (a < max && before.charCodeAt(a) === now.charCodeAt(a)) a++;
  let b = 0;
  while (b < max - a && before.charCodeAt(before.length - 1 - b) === now.charCodeAt(now.length - 1 - b)) b++;
  const endBefore = before.length - b;
  const endNow = now.length - b;
  const lines = (s: string, from: number, to: number) => {
    let n = 0;
    for (let i = s.indexOf('\n', from); i !== -1 && i < to; i = s.indexOf('\n', i + 1)) n++;
    return n;
  };
  const edit = { at: a, endBefore, delta: now.length - before.length, lineDelta: lines(now, a, endNow) - lines(before, a, endBefore) };
  const decl = file.decls.find((d) => d.range.start.offset < a && endBefore < d.range.end.offset);
  if (decl) {
    // Inside a declaration: only on the cursor's line within it (what is written there is not
    // yet visible at the cursor; a new line may declare what the cursor reads).
    if (edit.lineDelta !== 0 || before.slice(a, endBefore).includes('\n')) return undefined;
    const lineStart = now.lastIndexOf('\n', offset - 1) + 1;
    const lineEnd = now.indexOf('\n', offset);
    if (a < lineStart || (lineEnd >= 0 && endNow > lineEnd)) return undefined;
    return { ...edit, decl };
  }
  // Between declarations: whole lines of comments and blank lines on both sides.
  if (file.decls.some((d) => d.range.start.offset < endBefore && a < d.range.end.offset)) return undefined;
  // The lines holding [from, to) (a change ending with a line break ends there), when it is not empty.
  const onlyComments = (s: string, from: number, to: number) => {
    if (from === to) return true;
    const start = s.lastIndexOf('\n', from - 1) + 1;
    const nl = s[to - 1] === '\n' ? to : s.indexOf('\n', to);
    const lexed = T.hdcLexer.tokenize(s.slice(start, nl < 0 ? s.length : nl));
    return lexed.errors.length === 0 && lexed.tokens.length === 0;
  };
  return onlyComments(before, a, endBefore) && onlyComments(now, a, endNow) ? edit : undefined;
}

/** An offset in the later text, in the earlier one (inside the change: where it starts). */
export function offsetBefore(edit: LocalEdit, offset: number): number {
  if (offset <= edit.at) return offset;
  const endNow = edit.endBefore + edit.delta;
  return offset >= endNow ? offset - edit.delta : edit.at;
}

/** The earlier parse seen through the edit: declarations after it moved, the edited one ends later. */
export function shiftedView(file: A.SourceFile, edit: LocalEdit): A.SourceFile {
  const move = (p: A.Position): A.Position => ({ line: p.line + edit.lineDelta, col: p.col, offset: p.offset + edit.delta });
  const decls = file.decls.map((d) => {
    if (d === edit.decl) return { ...d, range: { start: d.range.start, end: move(d.range.end) } } as A.Decl;
    return d.range.start.offset >= edit.endBefore ? ({ ...d, range: { start: move(d.range.start), end: move(d.range.end) } } as A.Decl) : d;
  });
  return { ...file, decls };
}
