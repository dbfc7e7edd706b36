// Evaluates a plan expression. Total: missing data never throws, it reads as null. The only
// error is a programming one — a secret node evaluated without the resolver the runtime installs
// at start-up — and it names the .hdc location.
import type { Expr, Value } from '../../../plan/plan.types.ts';
import { functions } from './functions.ts';
import { compare, equals, isAbsent, truthy } from './values.ts';
import { toText } from './convert.ts';
import { applyValueMap } from './value-map.ts';

export interface Scope {
  /**
   * Variables: mapped fields, step results (a named step's response body), loop variables and
   * built-ins. `$meta[step] = { status, headers }` holds each step's response metadata.
   */
  vars: Record<string, unknown>;
  /** Component/subcomponent of the current HL7 repetition, inside a `where` filter. */
  rel?: (components: number[]) => unknown;
  /** Resolves a deployment value (env/file reference) to its secret text. */
  secrets?: (v: Value) => string;
  /** Transforms: reads HL7 values and calls transforms (runtime/transforms). */
  transforms?: TransformHost;
  /** datetime(x) gives a time without its own offset this zone's offset (transforms; a sender's timezone). */
  timezone?: string;
}

/** What `hl7`, `transform` and `for` nodes need; installed by runtime/transforms/run-transform.ts. */
export interface TransformHost {
  read(base: unknown, read: NonNullable<Expr['hl7']>): unknown;
  call(name: string, args: unknown[], scope: Scope, src?: string): unknown;
}

type Node = Expr;

function readPath(value: unknown, path: readonly (string | number)[], from: number): unknown {
  let v = value;
  for (let i = from; i < path.length; i++) {
    const key = path[i]!;
    if (key === '*') {
      // Nothing to map over is an empty list, so nested maps drop absent branches.
      if (isAbsent(v)) return [];
      if (!Array.isArray(v)) return null;
      const out: unknown[] = [];
      for (const item of v) {
        const r = readPath(item, path, i + 1);
        if (Array.isArray(r)) out.push(...r);
        else out.push(r);
      }
      return out;
    }
    if (isAbsent(v)) return null;
    if (typeof key === 'number') {
      v = Array.isArray(v) ? v[key] : null;
    } else if (typeof v === 'object' && !Array.isArray(v)) {
      v = Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : null;
    } else {
      return null;
    }
  }
  return v === undefined ? null : v;
}

function readRef(name: string, path: readonly (string | number)[] | undefined, scope: Scope): unknown {
  const head = path?.[0];
  if (head === '$status' || head === '$headers') {
    const meta = readPath(scope.vars.$meta, [name], 0) as { status?: unknown; headers?: unknown } | null;
    if (!meta) return null;
    if (head === '$status') return path!.length === 1 ? (meta.status ?? null) : null;
    const headers = meta.headers;
    if (path!.length === 1) return headers ?? null;
    const wanted = path![1];
    if (typeof wanted !== 'string' || !headers || typeof headers !== 'object') return null;
    // HTTP header names are case-insensitive.
    const hit = Object.keys(headers).find((k) => k.toLowerCase() === wanted.toLowerCase());
    return hit === undefined ? null : readPath((headers as Record<string, unknown>)[hit], path!, 2);
  }
  const root = Object.prototype.hasOwnProperty.call(scope.vars, name) ? scope.vars[name] : null;
  return path && path.length ? readPath(root, path, 0) : (root ?? null);
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (op === '+' && (typeof a === 'string' || typeof b === 'string')) {
    if (isAbsent(a) && isAbsent(b)) return null;
    return (toText(a) ?? '') + (toText(b) ?? '');
  }
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  const r = op === '+' ? a + b : a - b;
  return Number.isFinite(r) ? r : null;
}

export function evaluate(expr: Node, scope: Scope): unknown {
  if (expr === null || typeof expr !== 'object') return null;
  if ('lit' in expr) return expr.lit ?? null;
  if (expr.ref !== undefined) return readRef(expr.ref, expr.path, scope);
  if (expr.rel !== undefined) return scope.rel ? (scope.rel(expr.rel) ?? null) : null;
  if (expr.op !== undefined) {
    const args = expr.args ?? [];
    switch (expr.op) {
      case 'and':
        return args.every((a) => truthy(evaluate(a, scope)));
      case 'or':
        return args.some((a) => truthy(evaluate(a, scope)));
      case 'not':
        return !truthy(evaluate(args[0]!, scope));
      case 'neg': {
        const v = evaluate(args[0]!, scope);
        return typeof v === 'number' ? -v : null;
      }
    }
    const a = args[0] ? evaluate(args[0], scope) : null;
    const b = args[1] ? evaluate(args[1], scope) : null;
    switch (expr.op) {
      case '==': return equals(a, b);
      case '!=': return !equals(a, b);
      case '<': { const c = compare(a, b); return c !== undefined && c < 0; }
      case '<=': { const c = compare(a, b); return c !== undefined && c <= 0; }
      case '>': { const c = compare(a, b); return c !== undefined && c > 0; }
      case '>=': { const c = compare(a, b); return c !== undefined && c >= 0; }
      case '+':
      case '-':
        return arith(expr.op, a, b);
      case 'in':
        return Array.isArray(b) ? b.some((x) => equals(a, x)) : false;
    }
    return null;
  }
  if (expr.hl7 !== undefined) return scope.transforms ? scope.transforms.read(expr.args?.[0] ? evaluate(expr.args[0], scope) : null, expr.hl7) : null;
  if (expr.transform !== undefined) {
    return scope.transforms ? scope.transforms.call(expr.transform, (expr.args ?? []).map((a) => evaluate(a, scope)), scope, expr.src) : null;
  }
  if (expr.for !== undefined) {
    const over = expr.args?.[0] ? evaluate(expr.args[0], scope) : null;
    const items = Array.isArray(over) ? over : over === null || over === undefined ? [] : [over];
    const out: unknown[] = [];
    const inner: Scope = { ...scope, vars: { ...scope.vars } };
    for (const item of items) {
      inner.vars[expr.for] = item;
      const v = evaluate(expr.args![1]!, inner);
      if (v !== null && v !== undefined) out.push(v);
    }
    return out;
  }
  if (expr.call !== undefined) {
    const fn = (functions as Partial<Record<string, (args: unknown[]) => unknown>>)[expr.call];
    if (!fn) return null;
    try {
      const args = (expr.args ?? []).map((a) => evaluate(a, scope));
      if (expr.call === 'datetime' && args.length === 1 && scope.timezone) args.push(scope.timezone);
      const r = fn(args);
      return r === undefined ? null : r;
    } catch {
      return null;
    }
  }
  if (expr.map !== undefined) return applyValueMap(expr.map, expr.args?.[0] ? evaluate(expr.args[0], scope) : null);
  if (expr.template !== undefined) {
    let out = '';
    for (const part of expr.template) out += typeof part === 'string' ? part : (toText(evaluate(part, scope)) ?? '');
    return out;
  }
  if (expr.object !== undefined) {
    const out: Record<string, unknown> = {};
    for (const e of expr.object) out[e.key] = evaluate(e.value, scope);
    return out;
  }
  if (expr.array !== undefined) return expr.array.map((a) => evaluate(a, scope));
  if (expr.secret !== undefined) {
    if (!scope.secrets) {
      const at = typeof expr.src === 'string' ? ` at ${expr.src.replace(/:(\d+):\d+-.*$/, ':$1')}` : '';
      throw new Error(`secret evaluated without a resolver${at}`);
    }
    return scope.secrets(expr.secret);
  }
  return null;
}
