// A small pretty-printing document (Wadler/Prettier style). Only expressions need it: an object or
// list is written on one line when the line fits the width, otherwise one entry per line.
export type Doc = string | Doc[] | Group | Indent | Line;
interface Group { kind: 'group'; doc: Doc }
interface Indent { kind: 'indent'; doc: Doc }
/** A break opportunity: a space (or nothing, when soft) on one line, a newline when broken. */
interface Line { kind: 'line'; soft: boolean }

export const group = (doc: Doc): Doc => ({ kind: 'group', doc });
export const indent = (doc: Doc): Doc => ({ kind: 'indent', doc });
export const line: Doc = { kind: 'line', soft: false };
export const softline: Doc = { kind: 'line', soft: true };

export function join(separator: Doc, docs: Doc[]): Doc[] {
  return docs.flatMap((d, i) => (i === 0 ? [d] : [separator, d]));
}

export const WIDTH = 100;
const INDENT = 2;

type Mode = 'flat' | 'break';
type Command = [indent: number, mode: Mode, doc: Doc];

/**
 * Renders `doc` as if it started at column `column` of a line indented by `column` spaces; the
 * first line is returned without that indentation, later lines carry it.
 */
export function render(doc: Doc, column: number, width = WIDTH): string {
  let out = '';
  let col = column;
  const stack: Command[] = [[column, 'break', doc]];
  while (stack.length > 0) {
    const [ind, mode, d] = stack.pop()!;
    if (typeof d === 'string') {
      out += d;
      col += d.length;
    } else if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push([ind, mode, d[i]!]);
    } else if (d.kind === 'indent') {
      stack.push([ind + INDENT, mode, d.doc]);
    } else if (d.kind === 'group') {
      const flat = mode === 'flat' || fits([ind, 'flat', d.doc], stack, width - col);
      stack.push([ind, flat ? 'flat' : 'break', d.doc]);
    } else if (mode === 'flat') {
      if (!d.soft) {
        out += ' ';
        col += 1;
      }
    } else {
      out += '\n' + ' '.repeat(ind);
      col = ind;
    }
  }
  return out;
}

/** Whether `next` fits in `room` columns flat, counting what follows it up to the next line break. */
function fits(next: Command, rest: Command[], room: number): boolean {
  let restIndex = rest.length;
  const cmds: Command[] = [next];
  while (room >= 0) {
    if (cmds.length === 0) {
      if (restIndex === 0) return true;
      cmds.push(rest[--restIndex]!);
      continue;
    }
    const [ind, mode, d] = cmds.pop()!;
    if (typeof d === 'string') room -= d.length;
    else if (Array.isArray(d)) for (let i = d.length - 1; i >= 0; i--) cmds.push([ind, mode, d[i]!]);
    else if (d.kind === 'indent') cmds.push([ind + INDENT, mode, d.doc]);
    else if (d.kind === 'group') cmds.push([ind, mode, d.doc]);
    else if (mode === 'break') return true;
    else if (!d.soft) room -= 1;
  }
  return false;
}
