// Expressions back to text. The AST has no parenthesis nodes, so parentheses are written exactly
// where the parser's precedence needs them: or < and < not < comparison/in < + - < unary - < postfix.
// Literals (strings, templates, numbers) are copied from the source so they read as written.
import type * as A from '../syntax/ast.ts';
import { group, indent, join, line, softline, type Doc } from './doc.ts';

export const Prec = { any: 0, or: 1, and: 2, not: 3, comparison: 4, additive: 5, unary: 6, postfix: 7 } as const;

function precedence(e: A.Expr): number {
  switch (e.kind) {
    case 'binary':
      if (e.op === 'or') return Prec.or;
      if (e.op === 'and') return Prec.and;
      if (e.op === '+' || e.op === '-') return Prec.additive;
      return Prec.comparison;
    case 'unary':
      return e.op === 'not' ? Prec.not : Prec.unary;
    default:
      return Prec.postfix;
  }
}

export class ExprPrinter {
  constructor(private readonly text: string) {}

  raw(range: A.Range): string {
    return this.text.slice(range.start.offset, range.end.offset);
  }

  /** `e` as a document, parenthesised unless it binds at least as tightly as `min`. */
  expr(e: A.Expr, min: number = Prec.any): Doc {
    const doc = this.bare(e);
    return precedence(e) < min ? ['(', doc, ')'] : doc;
  }

  private bare(e: A.Expr): Doc {
    switch (e.kind) {
      case 'literal':
        return typeof e.value === 'string' || typeof e.value === 'number' ? this.raw(e.range) : String(e.value);
      case 'template':
        return e.raw;
      case 'ref':
        return e.name;
      case 'member':
        return [this.expr(e.object, Prec.postfix), '.', e.property.name];
      case 'index':
        return [this.expr(e.object, Prec.postfix), '[', String(e.index), ']'];
      case 'call':
        return [e.callee.name, '(', join(', ', e.args.map((a) => this.expr(a))), ')'];
      case 'binary': {
        const [l, r] = sidePrecedence(e.op);
        return [this.expr(e.left, l), ' ', e.op, ' ', this.expr(e.right, r)];
      }
      case 'unary':
        if (e.op === 'not') return ['not ', this.expr(e.operand, Prec.not)];
        // `-(-x)` rather than `--x`, which reads like a decrement.
        return ['-', this.expr(e.operand, e.operand.kind === 'unary' ? Prec.postfix : Prec.unary)];
      case 'object':
        return this.object(e);
      case 'array':
        if (e.items.length === 0) return '[]';
        return group(['[', indent([softline, join([',', line], e.items.map((i) => this.expr(i)))]), softline, ']']);
      case 'rel':
        return '.' + e.components.join('.');
      case 'secret':
        return this.secret(e.value);
      case 'hl7path':
        return this.raw(e.range);
      case 'for':
        return ['for ', e.variable.name, ' in ', this.expr(e.over, Prec.additive), ': ', this.expr(e.body)];
      case 'error':
        return this.raw(e.range);
    }
  }

  object(e: A.ObjectExpr): Doc {
    if (e.entries.length === 0) return '{}';
    const entries = e.entries.map((en) => [this.raw(en.keyRange), ': ', this.expr(en.value)]);
    return group(['{', indent([line, join([',', line], entries)]), line, '}']);
  }

  secret(s: A.EnvCall | A.FileCall): string {
    if (s.kind === 'env') return `env(${s.name.raw}${s.default ? ', ' + s.default.raw : ''})`;
    return `file(${s.path.kind === 'env' ? this.secret(s.path) : s.path.raw})`;
  }
}

/** Minimum precedence of the left and right operands of a binary operator. */
function sidePrecedence(op: A.BinaryExpr['op']): [number, number] {
  switch (op) {
    case 'or':
      return [Prec.or, Prec.and];
    case 'and':
      return [Prec.and, Prec.not];
    case '+':
    case '-':
      return [Prec.additive, Prec.unary];
    default:
      // Comparisons do not chain: both sides are additive expressions.
      return [Prec.additive, Prec.additive];
  }
}
