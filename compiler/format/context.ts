// What every item builder needs: the source (for raw literals and bodies), the expression printer
// and the block printer, plus helpers that turn AST ranges and `{ … }` bodies into layout.
import type * as A from '../syntax/ast.ts';
import { render, type Doc } from './doc.ts';
import { ExprPrinter } from './expr-doc.ts';
import { block, BlockPrinter, item, type Block, type Item } from './layout.ts';
import { SourceTokens, type Braces } from './source-tokens.ts';

export class FormatContext {
  readonly tokens: SourceTokens;
  readonly exprs: ExprPrinter;
  readonly blocks: BlockPrinter;

  constructor(readonly text: string) {
    this.tokens = new SourceTokens(text);
    this.exprs = new ExprPrinter(text);
    this.blocks = new BlockPrinter(text);
  }

  raw(range: A.Range): string {
    return this.exprs.raw(range);
  }

  /** A document rendered at `indent`: the first line unindented, later lines indented. */
  lines(doc: Doc, indent: number): string[] {
    return render(doc, indent).split('\n');
  }

  /** An item spanning an AST range. */
  item(range: A.Range, blocks: Block[], print: Item['print']): Item {
    return item(range.start.offset, range.end.offset, range.end.line, blocks, print);
  }

  /** An item from `start` to the end of `braces`. */
  itemTo(start: number, braces: Braces, blocks: Block[], print: Item['print']): Item {
    return item(start, braces.close, braces.closeLine, blocks, print);
  }

  /** The body opening at the first `{` at or after `offset`, holding `items`. */
  body(offset: number, items: Item[]): Block {
    const b = this.tokens.bracesAfter(offset);
    return b ? this.bodyIn(b, items) : block(offset, offset, items);
  }

  bodyIn(b: Braces, items: Item[]): Block {
    return block(b.open, b.close, items);
  }

  /** `head {`, the body's lines, `}` — or `head {}` when the body holds nothing. */
  braced(head: Doc, body: Block | undefined, indent: number): string[] {
    if (!body) return this.lines(head, indent);
    if (body.items.length === 0 && body.dangling.length === 0 && body.afterOpen.length === 0) return this.lines([head, ' {}'], indent);
    return [...this.lines([head, ' {' + this.blocks.afterOpen(body)], indent), ...this.blocks.lines(body, indent + 2, false, true), ' '.repeat(indent) + '}'];
  }

  /**
   * Atoms of a setting: a comma before names and between values of the same kind, else a space.
   * Names written one after another without a comma (a module's `words` setting, `on Patient run
   * upsert`) stay a phrase.
   */
  atoms(values: A.Atom[]): string {
    let out = '';
    values.forEach((v, i) => {
      const prev = values[i - 1];
      const phrase = prev && !this.text.slice(prev.range.end.offset, v.range.start.offset).includes(',');
      const sep = !prev ? ' ' : phrase && (v.kind === 'name' || prev.kind === 'name') ? ' ' : v.kind === 'name' || atomKind(prev) === atomKind(v) ? ', ' : ' ';
      out += sep + this.atom(v);
    });
    return out;
  }

  atom(a: A.Atom): string {
    switch (a.kind) {
      case 'string':
        return a.raw;
      case 'env':
      case 'file':
        return this.exprs.secret(a);
      default:
        return this.raw(a.range);
    }
  }
}

const atomKind = (a: A.Atom): string => (a.kind === 'env' || a.kind === 'file' ? 'secret' : a.kind);
