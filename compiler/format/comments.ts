// Attaches every comment to the layout, so none is lost: a comment goes to the innermost body it
// sits in; there it trails the item that ends on its line, leads the next item, or stays at the
// end of the body. A comment inside an item's own text (an expression) is written before the item;
// one right after a body's `{` stays on that line.
import type { Comment } from '../syntax/ast.ts';
import type { Block, Item } from './layout.ts';

export function attachComments(root: Block, comments: Comment[], text?: string): void {
  for (const c of comments) place(root, c, text);
}

function place(b: Block, c: Comment, text?: string): void {
  const at = c.range.start.offset;
  const inside = b.items.find((it) => it.start <= at && at < it.end);
  if (inside) {
    if (inside.verbatim) return;
    const nested = inside.blocks.find((nb) => nb.open < at && at < nb.close);
    // On the line of the body's `{`, before its first item: it stays after the `{`.
    if (nested && text !== undefined && c.text.startsWith('//') && !nested.items.some((it) => it.start < at) && !text.slice(nested.open, at).includes('\n')) nested.afterOpen.push(c);
    else if (nested) place(nested, c, text);
    else inside.inner.push(c);
    return;
  }
  let prev: Item | undefined;
  for (const it of b.items) if (it.end <= at) prev = it;
  const next = b.items.find((it) => it.start >= at);
  if (prev && prev.endLine === c.range.start.line) prev.trailing.push(c);
  else if (next) next.leading.push(c);
  else b.dangling.push(c);
}
