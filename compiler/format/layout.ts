// The formatter's view of a file: blocks of items (declarations, settings, fields, statements),
// each item knowing its source span, the bodies nested in it, and the comments attached to it.
// Items print themselves; blocks place comments and blank lines around them.
import type { Comment } from '../syntax/ast.ts';

export interface Block {
  /** Offsets of `{` and just after `}`; the file is a block from -1 to Infinity. */
  open: number;
  close: number;
  items: Item[];
  /** Comments after the last item (or in an empty block). */
  dangling: Comment[];
  /** Comments on the line of `{`, before any item: they stay on that line (`fields { // mapped`). */
  afterOpen: Comment[];
}

export interface Item {
  /** Set on top-level imports, which may sit together without blank lines. */
  isImport?: boolean;
  /** Printed as written (a transform): comments inside are part of its text. */
  verbatim?: boolean;
  start: number;
  end: number;
  /** Line of the item's last character (trailing comments start on it). */
  endLine: number;
  /** Bodies nested in the item, in source order. */
  blocks: Block[];
  /** Comments on their own lines before the item. */
  leading: Comment[];
  /** Comments that sat inside the item's own text (an expression, a header); written before it. */
  inner: Comment[];
  /** Comments after the item on its last line. */
  trailing: Comment[];
  /** The item's lines; the first is not indented (the block adds `indent` spaces), later lines are. */
  print(indent: number): string[];
}

export function block(open: number, close: number, items: Item[]): Block {
  return { open, close, items: items.sort((a, b) => a.start - b.start), dangling: [], afterOpen: [] };
}

export function item(start: number, end: number, endLine: number, blocks: Block[], print: Item['print']): Item {
  return { start, end, endLine, blocks, leading: [], inner: [], trailing: [], print };
}

/** Comment text without trailing blanks, one `\n` per line break. */
export function commentText(c: Comment): string {
  return c.text
    .split(/\r?\n|\r/)
    .map((l) => l.trimEnd())
    .join('\n');
}

/** Prints blocks: comments around items, at most one blank line kept where the author left one. */
export class BlockPrinter {
  constructor(private readonly text: string) {}

  private blankBetween(from: number, to: number): boolean {
    return from >= 0 && to > from && /\n[ \t\r\f]*\n/.test(this.text.slice(from, to));
  }

  /** The comments to write after `{` on its line (the caller then passes openPrinted to lines()). */
  afterOpen(b: Block): string {
    const text = b.afterOpen.map(commentText).join(' ');
    return text ? ' ' + text : '';
  }

  /** Lines of `b`'s contents at `indent` spaces; top level separates items by one blank line. */
  lines(b: Block, indent: number, topLevel = false, openPrinted = false): string[] {
    const pad = ' '.repeat(indent);
    const out: string[] = [];
    // A caller that prints `{` without them: they lead the contents instead.
    if (!openPrinted) for (const c of b.afterOpen) out.push(...commentText(c).split('\n').map((l, i) => (i === 0 ? pad + l : l)));
    let prevEnd = -1;
    let prevItem: Item | undefined;
    const emit = (text: string, blank: boolean): void => {
      if (blank && out.length > 0) out.push('');
      for (const [i, l] of text.split('\n').entries()) {
        const full = i === 0 ? pad + l : l;
        out.push(full.trim() === '' ? '' : full);
      }
    };
    for (const it of b.items) {
      const separate = topLevel && !(it.isImport && prevItem?.isImport);
      prevItem = it;
      let first = true;
      for (const c of it.leading) {
        emit(commentText(c), (separate && first) || this.blankBetween(prevEnd, c.range.start.offset));
        prevEnd = c.range.end.offset;
        first = false;
      }
      const lastLeading = prevEnd;
      for (const c of it.inner) {
        emit(commentText(c), first && (separate || this.blankBetween(lastLeading, it.start)));
        first = false;
      }
      const printed = it.print(indent);
      const trailing = it.trailing.map(commentText).join(' ');
      if (trailing) printed[printed.length - 1] += ' ' + trailing;
      const blank = (separate && first) || (it.inner.length === 0 && this.blankBetween(prevEnd, it.start));
      emit(printed.join('\n'), blank);
      prevEnd = Math.max(it.end, ...it.trailing.map((c) => c.range.end.offset));
    }
    for (const c of b.dangling) {
      emit(commentText(c), this.blankBetween(prevEnd, c.range.start.offset));
      prevEnd = c.range.end.offset;
    }
    return out;
  }
}
