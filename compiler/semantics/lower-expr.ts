// Expressions: name resolution against a scope, the type checks the compiler can see, and
// lowering to the plan's Expr.
import type * as A from '../syntax/ast.ts';
import type { Expr, ValueType } from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import type { Declaration, SymbolTable } from './symbols.ts';
import { functions } from './functions.ts';
import { closest } from '../dictionaries/closest.ts';
import { toValue } from './settings.ts';
import { lowerTransformExpr, type TransformScope } from './transforms.ts';
import { builtins } from '../specs/enumerations.ts';
import { checkFhirResultPath } from './fhir-element-checks.ts';

export interface VarInfo {
  decl: Declaration;
  type: ValueType;
  keys?: string[];
  /** Defined in one branch of an if only: unset when the other ran; a use must test it (HDC2021). */
  maybe?: boolean;
}

export interface ExprContext {
  file: string;
  r: Reporter;
  symbols: SymbolTable;
  vars: Map<string, VarInfo>;
  /** Names defined later in the same body: "used before the step that defines it". */
  later?: { get(name: string): Declaration | undefined };
  /** Inside a where filter: .4.1 relative paths allowed. */
  rel?: boolean;
  /** Inside exists(), empty() or coalesce(): a name that may be unset is being tested. */
  testing?: boolean;
  /** Inside a transform body: its HL7 parameters and for variables (compiler/semantics/transforms.ts). */
  transform?: TransformScope;
  src(range: A.Range): string;
}

export function srcOf(file: string, r: A.Range): string {
  return `${file}:${r.start.line}:${r.start.col}-${r.end.line}:${r.end.col}`;
}

/** Lowers an expression, resolving names and inferring a static type. */
export function lowerExpr(e: A.Expr, ctx: ExprContext): { expr: Expr; type: ValueType } {
  const src = ctx.src(e.range);
  const viaTransforms = lowerTransformExpr(e, ctx);
  if (viaTransforms) return viaTransforms;
  switch (e.kind) {
    case 'hl7path':
    case 'for':
      return { expr: { lit: null, src }, type: 'any' }; // lowered by transforms.ts
    case 'literal':
      return { expr: { lit: e.value, src }, type: e.value === null ? 'any' : typeof e.value === 'number' ? 'number' : typeof e.value === 'boolean' ? 'boolean' : 'string' };
    case 'template':
      return {
        expr: { template: e.parts.map((p) => (typeof p === 'string' ? p : lowerExpr(p, ctx).expr)), src },
        type: 'string',
      };
    case 'ref':
    case 'member':
    case 'index': {
      const chain: Array<string | number> = [];
      let node: A.Expr = e;
      while (node.kind === 'member' || node.kind === 'index') {
        chain.unshift(node.kind === 'member' ? node.property.name : node.index);
        node = node.object;
      }
      if (node.kind !== 'ref') {
        ctx.r.error('HDC6001', e.range, 'property access is only possible on a name',
          'Read properties from a variable or step result (patient.entry[0].resource.id), not from a call or literal: use first(list) on the whole path instead.');
        return { expr: { lit: null, src }, type: 'any' };
      }
      const v = resolveName(node, ctx);
      let type: ValueType = v?.type ?? 'any';
      if (chain.length && v) checkFhirResultPath(v.decl, e, ctx.r);
      if (chain.length) {
        if (v && (v.type === 'string' || v.type === 'number' || v.type === 'date' || v.type === 'datetime' || v.type === 'boolean') && !String(chain[0]).startsWith('$')) {
          ctx.r.error('HDC6001', e.range, `"${node.name}" is a ${v.type}, it has no properties or items`,
            `Use "${node.name}" on its own; map more fields in the sender if you need more of the message.`);
        }
        // Records (and lists of records, through [n] or [*]) know their field names.
        const key = chain.find((c) => typeof c === 'string' && c !== '*') as string | undefined;
        const keyFirst = key !== undefined && chain.slice(0, chain.indexOf(key)).every((c) => typeof c === 'number' || c === '*');
        const indexed = chain[0] === '*' || typeof chain[0] === 'number';
        if (v?.keys && key !== undefined && keyFirst && indexed === (v.type === 'records') && !key.startsWith('$') && !v.keys.includes(key)) {
          const near = closest(key, v.keys, 1);
          const rng = e.kind === 'member' && chain.length === 1 ? e.property.range : e.range;
          ctx.r.error('HDC2001', rng, `"${node.name}" has no field "${key}"`, `Its fields: ${v.keys.join(', ')}.`,
            near.map((n) => ({ replacement: n, range: rng })));
        }
        type = chain.includes('*') ? 'list' : 'any';
      }
      const expr: Expr = chain.length ? { ref: node.name, path: chain.map((c) => (c === '*' ? '*' : c)), src } : { ref: node.name, src };
      return { expr, type };
    }
    case 'call': {
      const valueMap = Object.hasOwn(functions, e.callee.name) ? undefined : ctx.symbols.valueMaps.get(e.callee.name);
      if (valueMap) {
        const args = e.args.map((a) => lowerExpr(a, ctx));
        ctx.symbols.refer(e.callee.name, ctx.file, e.callee.range, valueMap.decl);
        if (args.length !== 1) ctx.r.error('HDC2010', e.range, `map ${e.callee.name}() takes 1 argument, got ${args.length}`, `Write: ${e.callee.name}(value)`);
        return { expr: { map: valueMap.map, args: args.map((a) => a.expr), src }, type: args[0]?.type === 'list' ? 'list' : 'string' };
      }
      const sig = functions[e.callee.name];
      const testing = TESTS_FOR_NULL.has(e.callee.name) ? { ...ctx, testing: true } : ctx;
      const args = e.args.map((a) => lowerExpr(a, testing));
      if (!sig) {
        const near = closest(e.callee.name, [...Object.keys(functions), ...ctx.symbols.valueMaps.keys()], 1);
        ctx.r.error('HDC2009', e.callee.range, `unknown function "${e.callee.name}"`,
          `Functions: ${Object.keys(functions).join(', ')}${ctx.symbols.valueMaps.size ? `; maps: ${[...ctx.symbols.valueMaps.keys()].join(', ')}` : ''}.`, near.map((n) => ({ replacement: n, range: e.callee.range })));
        return { expr: { call: e.callee.name, args: args.map((a) => a.expr), src }, type: 'any' };
      }
      if (e.args.length < sig.min || e.args.length > sig.max) {
        const want = sig.min === sig.max ? `${sig.min}` : `${sig.min} to ${sig.max}`;
        ctx.r.error('HDC2010', e.range, `${e.callee.name}() takes ${want} argument${sig.max === 1 ? '' : 's'}, got ${e.args.length}`, sig.doc);
      }
      return { expr: { call: e.callee.name, args: args.map((a) => a.expr), src }, type: sig.returns };
    }
    case 'binary': {
      const l = lowerExpr(e.left, ctx);
      const rr = lowerExpr(e.right, ctx);
      if (['<', '<=', '>', '>='].includes(e.op)) {
        const kinds = [l.type, rr.type];
        const dateLike = (t: ValueType) => t === 'date' || t === 'datetime';
        if ((kinds.some(dateLike) && kinds.includes('number')) || (kinds.includes('boolean') && kinds.some((t) => t !== 'boolean' && t !== 'any'))) {
          ctx.r.error('HDC6001', e.range, `cannot order a ${l.type} against a ${rr.type}`,
            'Compare values of one kind: dates with dates ("2024-01-01" or today()), numbers with numbers (number(x)).');
        }
      }
      if (e.op === 'in' && ['string', 'number', 'date', 'datetime', 'boolean'].includes(rr.type)) {
        ctx.r.error('HDC6001', e.right.range, `"in" needs a list on its right, got a ${rr.type}`, 'Write: x in ["A", "B"], or contains(text, x) for text.');
      }
      const type: ValueType = ['+', '-'].includes(e.op) ? (l.type === 'string' || rr.type === 'string' ? 'string' : 'number') : 'boolean';
      return { expr: { op: e.op, args: [l.expr, rr.expr], src }, type };
    }
    case 'unary': {
      const o = lowerExpr(e.operand, ctx);
      return { expr: { op: e.op, args: [o.expr], src }, type: e.op === 'not' ? 'boolean' : 'number' };
    }
    case 'object':
      return {
        expr: { object: e.entries.map((en) => ({ key: en.key, value: lowerExpr(en.value, ctx).expr })), src },
        type: 'record',
      };
    case 'array':
      return { expr: { array: e.items.map((i) => lowerExpr(i, ctx).expr), src }, type: 'list' };
    case 'rel':
      if (!ctx.rel) {
        ctx.r.error('HDC6001', e.range, `relative path ${e.components.map((c) => '.' + c).join('')} outside a where filter`,
          'Relative component paths (.4.1) only read the current repetition in `where` filters of field mappings.');
      }
      return { expr: { rel: e.components, src }, type: 'string' };
    case 'secret':
      return { expr: { secret: toValue(e.value, ctx.file, ctx.src), src }, type: 'string' };
    case 'error':
      return { expr: { lit: null, src }, type: 'any' };
  }
}

/** Functions whose arguments may be unset names: they test for null. */
const TESTS_FOR_NULL = new Set(['exists', 'empty', 'coalesce']);

const builtinDocs: Record<string, string> = builtins;
export const builtinDoc = (name: string): string | undefined => builtinDocs[name];

function resolveName(node: A.RefExpr, ctx: ExprContext): VarInfo | undefined {
  const v = ctx.vars.get(node.name);
  if (v) {
    if (v.decl.range.start.offset >= 0) ctx.symbols.refer(node.name, ctx.file, node.range, v.decl);
    if (v.maybe && !ctx.testing) {
      ctx.r.error('HDC2021', node.range, `"${node.name}" may be unset here`,
        `It is defined inside an if at line ${v.decl.range.start.line} and is null when that branch did not run. Test it first (if exists(${node.name}) { … }) or use coalesce(${node.name}…, default)${v.decl.kind === 'variable' ? `, or define it before the if (let ${node.name} = null) and assign it in the branch (${node.name} = …)` : ''}.`);
    }
    return v;
  }
  const later = ctx.later?.get(node.name);
  if (later) {
    ctx.r.error('HDC2003', node.range, `"${node.name}" is used before the step that defines it`,
      `"${node.name}" is defined at line ${later.range.start.line}; move this use after it.`);
    return undefined;
  }
  const near = closest(node.name, [...ctx.vars.keys()], 1);
  ctx.r.error('HDC2001', node.range, `unknown name "${node.name}"`,
    near.length ? `Did you mean "${near[0]}"?` : `Visible here: ${[...ctx.vars.keys()].join(', ') || 'nothing'}.`,
    near.map((n) => ({ replacement: n, range: node.range })));
  return undefined;
}
