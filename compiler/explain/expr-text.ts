// Plan expressions and deployment values back to readable .hdc-like text, for reviewers.
// Parentheses follow the language's precedence: or < and < not < comparison/in < + - < unary -.
import type { EnvRef, Expr, FileRef, Value } from '../../plan/plan.types.ts';

type PlanExpr = Expr;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function precedence(e: PlanExpr): number {
  switch (e.op) {
    case 'or': return 1;
    case 'and': return 2;
    case 'not': return 3;
    case '==': case '!=': case '<': case '<=': case '>': case '>=': case 'in': return 4;
    case '+': case '-': return 5;
    case 'neg': return 6;
    default: return 7;
  }
}

/** Minimum precedence of each operand of `op`, as the parser reads them. */
function operandPrecedence(op: NonNullable<PlanExpr['op']>, index: number): number {
  switch (op) {
    case 'or': return index === 0 ? 1 : 2;
    case 'and': return index === 0 ? 2 : 3;
    case 'not': return 3;
    case '+': case '-': return index === 0 ? 5 : 6;
    case 'neg': return 7;
    default: return 5;
  }
}

export function exprText(e: PlanExpr | undefined, min = 0): string {
  if (!e) return '';
  const text = bare(e);
  return precedence(e) < min ? `(${text})` : text;
}

function bare(e: PlanExpr): string {
  if (Object.hasOwn(e, 'lit')) return JSON.stringify(e.lit ?? null);
  if (e.ref !== undefined) return e.ref + pathText(e.path ?? []);
  if (e.rel) return '.' + e.rel.join('.');
  if (e.op) {
    const args = (e.args ?? []) as PlanExpr[];
    if (e.op === 'not') return `not ${exprText(args[0], operandPrecedence('not', 0))}`;
    if (e.op === 'neg') return `-${exprText(args[0], operandPrecedence('neg', 0))}`;
    return `${exprText(args[0], operandPrecedence(e.op, 0))} ${e.op} ${exprText(args[1], operandPrecedence(e.op, 1))}`;
  }
  if (e.map !== undefined) return `${e.map.name}(${((e.args ?? []) as PlanExpr[]).map((a) => exprText(a)).join(', ')})`;
  if (e.call !== undefined) return `${e.call}(${((e.args ?? []) as PlanExpr[]).map((a) => exprText(a)).join(', ')})`;
  if (e.template) return templateText(e.template as Array<string | PlanExpr>);
  if (e.object) {
    if (e.object.length === 0) return '{}';
    return `{ ${e.object.map((en) => `${IDENT.test(en.key) ? en.key : JSON.stringify(en.key)}: ${exprText(en.value)}`).join(', ')} }`;
  }
  if (e.array) return `[${(e.array as PlanExpr[]).map((a) => exprText(a)).join(', ')}]`;
  if (e.secret !== undefined) return valueText(e.secret, { secret: true });
  if (e.transform !== undefined) return `${e.transform}(${((e.args ?? []) as PlanExpr[]).map((a) => exprText(a)).join(', ')})`;
  if (e.for !== undefined) return `for ${e.for} in ${exprText((e.args as PlanExpr[])[0])}: ${exprText((e.args as PlanExpr[])[1])}`;
  if (e.hl7 !== undefined) return hl7Text(e.hl7, (e.args as PlanExpr[] | undefined)?.[0]);
  return '?';
}

function hl7Text(r: NonNullable<PlanExpr['hl7']>, base: PlanExpr | undefined): string {
  if (r.children) return `children(${exprText(base)}, "${r.children}")`;
  const pos = `${r.field !== undefined ? `-${r.field}` : ''}${r.rep === '*' ? '[*]' : r.rep ? `[${r.rep}]` : ''}${r.component ? `.${r.component}` : ''}${r.subcomponent ? `.${r.subcomponent}` : ''}`;
  if (r.from === 'message') return `${r.segment}${r.all ? '[*]' : ''}${pos}`;
  const on = exprText(base);
  return r.from === 'segment' ? `${on}${pos.replace(/^-/, '.')}` : `${on}${pos}`;
}

function pathText(path: Array<string | number>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p === '*' ? '[*]' : IDENT.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

function templateText(parts: Array<string | PlanExpr>): string {
  const body = parts
    .map((p) => (typeof p === 'string' ? JSON.stringify(p).slice(1, -1).replace(/[{}]/g, (c) => '\\' + c) : `{${exprText(p)}}`))
    .join('');
  return `"${body}"`;
}

/**
 * A deployment value. References show as env(NAME) / file(…); a default is shown only for values
 * that are not secret (base URLs, issuers), never for credentials.
 */
export function valueText(v: Value | undefined, opts: { secret?: boolean } = {}): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return opts.secret ? '(literal, hidden)' : v;
  if ('env' in v) return envText(v, opts.secret ?? false);
  return fileText(v);
}

function envText(v: EnvRef, secret: boolean): string {
  return v.default !== undefined && !secret ? `env(${v.env}, default ${v.default})` : `env(${v.env})`;
}

function fileText(v: FileRef): string {
  const inner = typeof v.file === 'string' ? v.file : 'env' in v.file ? envText(v.file, true) : fileText(v.file);
  return `file(${inner})`;
}
