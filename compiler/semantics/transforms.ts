// Transforms: declarations (`transform NAME(pid: PID) -> Patient { … }`), their overrides
// (`transform my_patient extends std.patient { … }`), calls from bodies and workflows, and HL7
// reads inside them. Checks and lowering to the plan's Transform and Expr nodes live here; the
// analyzer and lowerExpr call in with a few lines.
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import type { SymbolTable, TransformSymbol } from './symbols.ts';
import { lowerExpr, srcOf, type ExprContext, type VarInfo } from './lower-expr.ts';
import { checkFhirBody } from './fhir-body-checks.ts';
import { mapOutputs } from './value-maps.ts';
import { dataTypes, isResourceType } from '../dictionaries/fhir.ts';
import { closest } from '../dictionaries/closest.ts';
import { isStdFile } from '../std-library.ts';
import { checkTransformHl7Path, transformHl7Version } from './transform-hl7-paths.ts';

/** What an HL7-typed name holds, as the compiler knows it. */
export type Hl7Type =
  | { kind: 'message' }
  | { kind: 'segment'; segment: string }
  | { kind: 'group'; segment: string }
  | { kind: 'composite'; type: string };

/** The HL7 names visible in a transform body (parameters and `for` variables over HL7 data). */
export interface TransformScope {
  hl7: Map<string, Hl7Type>;
  /** The HL7 version whose dictionary checks the body's paths. */
  version: string;
}

const SEGMENT_ID = /^[A-Z][A-Z0-9]{2}$/;
/** HL7 v2 data types a parameter may take (composites: components read with .1, .4.1). */
const HL7_TYPES = new Set(['CE', 'CWE', 'CNE', 'CX', 'XPN', 'XAD', 'XTN', 'XCN', 'XON', 'HD', 'EI', 'EIP', 'PL', 'DR', 'DLN',
  'CQ', 'SN', 'ED', 'RP', 'TQ', 'MO', 'NR', 'FC', 'JCC', 'PRL', 'CP', 'VID', 'MSG', 'PT', 'DTM', 'TS', 'ID', 'IS', 'ST', 'NM', 'TX', 'FT', 'CM', 'NDL', 'AUI', 'DLD', 'LA2', 'SPS', 'RPT', 'CF', 'CSU']);
const declKinds = 'message, a segment ID (PID), each SEG, an HL7 data type (CX, XPN, CWE…) or value';

export function paramType(p: A.TransformParamDecl): P.TransformParam | undefined {
  const t = p.type.name;
  if (p.each) return SEGMENT_ID.test(t) ? { name: p.name.name, kind: 'group', type: t } : undefined;
  if (t === 'message') return { name: p.name.name, kind: 'message' };
  if (t === 'value') return { name: p.name.name, kind: 'value' };
  if (HL7_TYPES.has(t)) return { name: p.name.name, kind: 'composite', type: t };
  if (SEGMENT_ID.test(t)) return { name: p.name.name, kind: 'segment', type: t };
  return undefined;
}

const hl7TypeOf = (p: P.TransformParam): Hl7Type | undefined =>
  p.kind === 'message' ? { kind: 'message' } : p.kind === 'segment' ? { kind: 'segment', segment: p.type! }
    : p.kind === 'group' ? { kind: 'group', segment: p.type! } : p.kind === 'composite' ? { kind: 'composite', type: p.type! } : undefined;

/** Registers every transform by name before anything is lowered (calls may come first). */
export function registerTransforms(files: A.SourceFile[], symbols: SymbolTable, root: Reporter): void {
  for (const f of files) {
    for (const d of f.decls) {
      if (d.kind !== 'transform') continue;
      const decl = symbols.lookup('transform', d.name.name);
      if (decl && !symbols.transforms.has(d.name.name)) symbols.transforms.set(d.name.name, { decl, file: f.file, ast: d });
      if (d.name.name.startsWith('std.') !== isStdFile(f.file)) {
        root.for(f.file).error('HDC8003', d.name.range, d.name.name.startsWith('std.') ? `"${d.name.name}": std.… names belong to the library shipped with hdc` : `a std library transform must be named std.${d.name.name}`,
          d.name.name.startsWith('std.') ? `Name it without "std." (e.g. ${d.name.name.slice(4)}), or extend it: transform my_${d.name.name.slice(4)} extends ${d.name.name} { … }.` : 'Library declarations are named std.NAME.');
      }
    }
  }
}

/** A transform's effective parts, its base's first (an override replaces or adds elements). */
interface Effective {
  params: A.TransformParamDecl[];
  paramsFile: string;
  result?: A.Ident;
  resultFile: string;
  lets: Array<{ l: A.TransformDecl['lets'][number]; file: string }>;
  entries: Array<{ e: A.ObjectExpr['entries'][number]; file: string }>;
}

function effective(sym: TransformSymbol, symbols: SymbolTable, seen = new Set<string>()): Effective | undefined {
  const d = sym.ast;
  if (!d.extends) {
    return { params: d.params, paramsFile: sym.file, result: d.result, resultFile: sym.file,
      lets: d.lets.map((l) => ({ l, file: sym.file })), entries: d.body.entries.map((e) => ({ e, file: sym.file })) };
  }
  const base = symbols.transforms.get(d.extends.name);
  if (!base || seen.has(d.name.name)) return undefined;
  seen.add(d.name.name);
  const b = effective(base, symbols, seen);
  if (!b) return undefined;
  const own = new Set(d.body.entries.map((e) => e.key));
  const entries = b.entries.map((x) => (own.has(x.e.key) ? { e: d.body.entries.find((e) => e.key === x.e.key)!, file: sym.file } : x));
  for (const e of d.body.entries) if (!b.entries.some((x) => x.e.key === e.key)) entries.push({ e, file: sym.file });
  return { ...b, lets: [...b.lets, ...d.lets.map((l) => ({ l, file: sym.file }))], entries };
}

/** What an override changes in its base: for `hdc explain`. */
export function overrideSummary(d: A.TransformDecl, symbols: SymbolTable): { base: string; replaced: string[]; added: string[]; lets: string[] } | undefined {
  if (!d.extends) return undefined;
  const base = symbols.transforms.get(d.extends.name);
  const baseEff = base && effective(base, symbols);
  const keys = new Set(baseEff?.entries.map((x) => x.e.key) ?? []);
  return {
    base: d.extends.name,
    replaced: d.body.entries.filter((e) => keys.has(e.key)).map((e) => e.key),
    added: d.body.entries.filter((e) => !keys.has(e.key)).map((e) => e.key),
    lets: d.lets.map((l) => l.name.name),
  };
}

function isFhirType(name: string): boolean {
  if (isResourceType(name)) return true;
  const t = dataTypes();
  return t.complex.includes(name) || t.primitive.includes(name);
}

export function lowerTransform(d: A.TransformDecl, file: string, r: Reporter, symbols: SymbolTable): P.Transform | undefined {
  const sym = symbols.transforms.get(d.name.name);
  if (!sym || sym.ast !== d) return undefined; // a duplicate: HDC2002 already said so
  if (d.extends) {
    const base = symbols.transforms.get(d.extends.name);
    if (!base) {
      const near = closest(d.extends.name, [...symbols.transforms.keys()], 1);
      r.error('HDC8007', d.extends.range, `unknown transform "${d.extends.name}"`,
        near.length ? `Did you mean "${near[0]}"? Add import "std/hl7v2-fhir" for the library's.` : 'Declare it, or import "std/hl7v2-fhir" for the library\'s transforms.',
        near.map((n) => ({ replacement: n, range: d.extends!.range })));
      return undefined;
    }
    symbols.refer(d.extends.name, file, d.extends.range, base.decl);
  }
  const eff = effective(sym, symbols);
  if (!eff) {
    r.error('HDC8007', d.extends?.range ?? d.name.range, `transform "${d.name.name}" extends itself`, 'Extend another transform.');
    return undefined;
  }
  const resultType = eff.result?.name ?? 'any';
  if (!d.extends && d.result && d.result.name !== 'value' && !isFhirType(d.result.name)) {
    const near = closest(d.result.name, [...dataTypes().complex, ...dataTypesResources()], 1);
    r.error('HDC8008', d.result.range, `"${d.result.name}" is not a FHIR R4 resource or data type`,
      near.length ? `Did you mean "${near[0]}"?` : 'Name a resource (Patient) or data type (Identifier).', near.map((n) => ({ replacement: n, range: d.result!.range })));
  }

  // Parameters.
  const params: P.TransformParam[] = [];
  const hl7 = new Map<string, Hl7Type>();
  const vars = new Map<string, VarInfo>();
  const pr = r.for(eff.paramsFile);
  for (const p of eff.params) {
    const t = paramType(p);
    if (!t) {
      const near = closest(p.type.name, ['message', 'value', ...HL7_TYPES], 1);
      pr.error('HDC8004', p.type.range, `unknown parameter type "${p.type.name}"`, `A parameter is ${declKinds}.`, near.map((n) => ({ replacement: n, range: p.type.range })));
      continue;
    }
    if (params.some((x) => x.name === t.name)) {
      pr.error('HDC8010', p.name.range, `parameter "${t.name}" is declared twice`, 'Give each parameter its own name.');
      continue;
    }
    params.push(t);
    const h = hl7TypeOf(t);
    if (h) hl7.set(t.name, h);
    const pdecl = { kind: 'variable' as const, name: t.name, file: eff.paramsFile, range: p.name.range, declRange: p.range, container: d.name.name, detail: `${p.each ? 'each ' : ''}${p.type.name}` };
    if (eff.paramsFile === file) symbols.declare(pdecl);
    vars.set(t.name, { decl: pdecl, type: t.kind === 'group' ? 'list' : 'any' });
  }
  const scope: TransformScope = { hl7, version: transformHl7Version(d, symbols, r.for(file)) };
  for (const p of eff.params) {
    const t = params.find((x) => x.name === p.name.name);
    if (t?.type && (t.kind === 'segment' || t.kind === 'group')) checkTransformHl7Path(scope.version, { text: t.type, segment: t.type }, p.type, p.type.range, r.for(eff.paramsFile), eff.paramsFile);
  }
  const ctxFor = (f: string): ExprContext => ({ file: f, r: r.for(f), symbols, vars, transform: scope, src: (range) => srcOf(f, range) });

  const lets: P.Entry[] = [];
  for (const { l, file: lf } of eff.lets) {
    if (vars.has(l.name.name)) {
      r.for(lf).error('HDC2020', l.name.range, `"${l.name.name}" is already defined`, 'Give the value its own name.');
      continue;
    }
    const c = ctxFor(lf);
    const low = lowerTransformArg(l.value, c, true);
    lets.push({ key: l.name.name, value: low.expr });
    const ldecl = { kind: 'variable' as const, name: l.name.name, file: lf, range: l.name.range, declRange: l.range, container: d.name.name };
    if (lf === file) symbols.declare(ldecl);
    vars.set(l.name.name, { decl: ldecl, type: 'any' });
    if (low.hl7) hl7.set(l.name.name, low.hl7);
  }

  if (d.value && !d.extends) {
    const body = lowerTransformArg(d.value, ctxFor(file), false).expr;
    return { name: d.name.name, params, resultType, lets, body, src: srcOf(file, d.range) };
  }
  const entries: P.Entry[] = [];
  if (isResourceType(resultType)) entries.push({ key: 'resourceType', value: { lit: resultType } });
  for (const { e, file: ef } of eff.entries) {
    if (e.key === 'resourceType') continue;
    entries.push({ key: e.key, value: lowerExpr(e.value, ctxFor(ef)).expr });
  }
  // Body checks against FHIR R4: an override's own elements; a base's whole body.
  if (isResourceType(resultType)) {
    const body: A.ObjectExpr = d.extends ? { ...d.body, entries: d.body.entries } : d.body;
    checkFhirBody(resultType, body, !d.extends, (d.result ?? d.name).range,
      { r, typeOf: () => undefined, mapOutputs: (name) => mapOutputs(symbols, name) });
  }
  const t: P.Transform = { name: d.name.name, params, resultType, lets, body: { object: entries, src: srcOf(file, d.body.range) }, src: srcOf(file, d.range) };
  if (d.extends) t.extends = d.extends.name;
  return t;
}

function dataTypesResources(): string[] {
  return ['Patient', 'Encounter', 'Observation', 'Bundle', 'Identifier', 'HumanName', 'CodeableConcept'];
}

// ---- expressions inside transforms (and transform calls anywhere) --------------------------------

export interface Lowered { expr: P.Expr; type: P.ValueType; hl7?: Hl7Type }

/** lowerExpr's hook: transform calls, HL7 reads and `for`. Undefined: not ours, lowerExpr goes on. */
export function lowerTransformExpr(e: A.Expr, ctx: ExprContext): Lowered | undefined {
  return lowerHl7(e, ctx, false);
}

/** Lowers an argument: HL7 reads keep their structure (a CX stays a CX for the callee). */
export function lowerTransformArg(e: A.Expr, ctx: ExprContext, struct: boolean): Lowered {
  return lowerHl7(e, ctx, struct) ?? lowerExpr(e, ctx);
}

function lowerHl7(e: A.Expr, ctx: ExprContext, struct: boolean): Lowered | undefined {
  const src = ctx.src(e.range);
  const scope = ctx.transform;
  switch (e.kind) {
    case 'call': {
      if (e.callee.name === 'er7' && e.args.length === 1 && scope) {
        return { expr: { call: 'er7', args: [lowerTransformArg(e.args[0]!, ctx, true).expr], src }, type: 'string' };
      }
      if (e.callee.name === 'children' && scope) return lowerChildren(e, ctx);
      const sym = ctx.symbols.transforms.get(e.callee.name);
      if (!sym) {
        if (e.callee.name.includes('.') && !ctx.symbols.valueMaps.has(e.callee.name)) {
          const near = closest(e.callee.name, [...ctx.symbols.transforms.keys(), ...ctx.symbols.valueMaps.keys()], 1);
          ctx.r.error('HDC2009', e.callee.range, `unknown transform or map "${e.callee.name}"`,
            e.callee.name.startsWith('std.') && !ctx.symbols.transforms.size ? 'Add import "std/hl7v2-fhir" to use the library.' : near.length ? `Did you mean "${near[0]}"?` : 'Declare it, or import the library that has it.',
            near.map((n) => ({ replacement: n, range: e.callee.range })));
          return { expr: { lit: null, src }, type: 'any' };
        }
        return undefined;
      }
      ctx.symbols.refer(e.callee.name, ctx.file, e.callee.range, sym.decl);
      const eff = effective(sym, ctx.symbols);
      const params = (eff?.params ?? []).map(paramType);
      if (eff && e.args.length !== params.length) {
        ctx.r.error('HDC8005', e.range, `${e.callee.name}() takes ${params.length} argument${params.length === 1 ? '' : 's'}, got ${e.args.length}`,
          `Write: ${e.callee.name}(${eff.params.map((p) => `${p.name.name}: ${p.each ? 'each ' : ''}${p.type.name}`).join(', ')})`);
      }
      const args = e.args.map((a, i) => {
        const p = params[i];
        const low = lowerTransformArg(a, ctx, !!p && p.kind !== 'value');
        if (p) checkArgKind(p, low, a, ctx);
        return low.expr;
      });
      const result = eff?.result?.name;
      const list = params[0] && (params[0].kind === 'segment' || params[0].kind === 'composite') && e.args[0] && returnsList(e.args[0], ctx);
      return { expr: { transform: e.callee.name, args, src }, type: list ? 'list' : result ? 'record' : 'any' };
    }
    case 'hl7path': {
      if (!scope) {
        ctx.r.error('HDC8002', e.range, `HL7 path ${e.path.text} outside a transform`, 'Workflows read the fields their senders map; HL7 paths are read in sender fields and transform bodies.');
        return { expr: { lit: null, src }, type: 'any' };
      }
      return lowerPath(e, ctx, scope, struct);
    }
    case 'ref':
    case 'member':
    case 'index': {
      if (!scope) return undefined;
      return lowerChain(e, ctx, scope, struct);
    }
    case 'for': {
      const over = lowerTransformArg(e.over, ctx, true);
      const saved = ctx.vars.get(e.variable.name);
      const savedHl7 = scope?.hl7.get(e.variable.name);
      const vdecl = { kind: 'variable' as const, name: e.variable.name, file: ctx.file, range: e.variable.range, declRange: e.range };
      ctx.vars.set(e.variable.name, { decl: vdecl, type: 'any' });
      const itemType: Hl7Type | undefined = over.hl7 && (over.hl7.kind === 'group' ? { kind: 'segment', segment: over.hl7.segment } : over.hl7);
      if (scope) { if (itemType) scope.hl7.set(e.variable.name, itemType); else scope.hl7.delete(e.variable.name); }
      try {
        const body = lowerExpr(e.body, ctx);
        return { expr: { for: e.variable.name, args: [over.expr, body.expr], src }, type: 'list' };
      } finally {
        if (saved) ctx.vars.set(e.variable.name, saved); else ctx.vars.delete(e.variable.name);
        if (scope) { if (savedHl7) scope.hl7.set(e.variable.name, savedHl7); else scope.hl7.delete(e.variable.name); }
      }
    }
    default:
      return undefined;
  }
}

function returnsList(a: A.Expr, ctx: ExprContext): boolean {
  if (a.kind === 'hl7path') return a.path.fieldRep === '*' || a.path.segmentRep === '*';
  if (a.kind === 'index') return a.index === '*' || returnsList(a.object, ctx);
  if (a.kind === 'ref') { const h = ctx.transform?.hl7.get(a.name); return h?.kind === 'group'; }
  if (a.kind === 'call') return a.callee.name === 'children';
  return a.kind === 'for' || a.kind === 'array';
}

function checkArgKind(p: P.TransformParam, low: Lowered, a: A.Expr, ctx: ExprContext): void {
  const h = low.hl7;
  const want = p.kind === 'group' ? `each ${p.type}` : p.kind === 'segment' ? `a ${p.type} segment` : p.kind === 'message' ? 'the message' : p.kind === 'composite' ? `a ${p.type} value` : '';
  if (p.kind === 'value' || !want) return;
  const lit = (a.kind === 'literal' && a.value !== null) || a.kind === 'template' || a.kind === 'object' || a.kind === 'array';
  const wrong = lit
    || (h && p.kind === 'message' && h.kind !== 'message')
    || (h && (p.kind === 'segment' || p.kind === 'group') && (h.kind === 'message' || h.kind === 'composite' || ((h.kind === 'segment' || h.kind === 'group') && h.segment !== p.type)))
    || (h && p.kind === 'composite' && (h.kind === 'message' || h.kind === 'segment' || h.kind === 'group'));
  if (wrong) {
    const got = h ? (h.kind === 'message' ? 'the message' : h.kind === 'composite' ? `a ${h.type} value` : `${h.kind === 'group' ? 'each ' : 'a '}${h.segment}${h.kind === 'group' ? '' : ' segment'}`) : 'a value';
    ctx.r.error('HDC8006', a.range, `parameter "${p.name}" takes ${want}, got ${got}`,
      p.kind === 'segment' ? `Pass the segment: ${p.type} (the message's first), a parameter of type ${p.type}, or a for variable over ${p.type}[*].` : `Pass ${want}.`);
  }
}

function lowerChildren(e: A.CallExpr, ctx: ExprContext): Lowered {
  const src = ctx.src(e.range);
  const seg = e.args[1];
  const id = seg && seg.kind === 'literal' && typeof seg.value === 'string' ? seg.value : undefined;
  if (e.args.length !== 2 || !id || !SEGMENT_ID.test(id)) {
    ctx.r.error('HDC2010', e.range, 'children() takes a segment and a segment ID', 'Write: children(obr, "OBX"): the OBX segments after obr, up to the next OBR.');
    return { expr: { lit: null, src }, type: 'list' };
  }
  if (ctx.transform) checkTransformHl7Path(ctx.transform.version, { text: id, segment: id }, seg, seg.range, ctx.r, ctx.file, false, false);
  const base = lowerTransformArg(e.args[0]!, ctx, true);
  if (base.hl7 && base.hl7.kind !== 'segment') {
    ctx.r.error('HDC8006', e.args[0]!.range, 'children() reads after a segment', 'Pass a segment parameter or a for variable over SEG[*].');
  }
  return { expr: { hl7: { from: 'segment', children: id }, args: [base.expr], src }, type: 'list', hl7: { kind: 'group', segment: id } };
}

/** `PID-5.1`: the parameter holding PID, else the message's first PID (OBX[*]-5: every OBX). */
function lowerPath(e: A.Hl7PathExpr, ctx: ExprContext, scope: TransformScope, struct: boolean): Lowered {
  const src = ctx.src(e.range);
  const p = e.path;
  checkTransformHl7Path(scope.version, p, e, e.range, ctx.r, ctx.file);
  const read: P.Hl7Read = { from: 'segment' };
  if (p.field !== undefined) read.field = p.field;
  if (p.fieldRep !== undefined) read.rep = p.fieldRep;
  if (p.component !== undefined) read.component = p.component;
  if (p.subcomponent !== undefined) read.subcomponent = p.subcomponent;
  if (struct && p.subcomponent === undefined) read.struct = true;
  const list = p.fieldRep === '*' || p.segmentRep === '*';
  const resultHl7: Hl7Type | undefined = struct && p.subcomponent === undefined ? { kind: 'composite', type: '' } : undefined;
  if (p.segmentRep !== undefined && p.segmentRep !== 1 && p.segmentRep !== '*') {
    ctx.r.error('HDC8009', e.range, `${p.text}: a transform reads the first ${p.segment} or every one ([*])`, `Write ${p.segment}[*] and pick with a for, or pass the segment as a parameter.`);
  }
  const holder = [...scope.hl7].find(([, h]) => h.kind === 'segment' && h.segment === p.segment && p.segmentRep === undefined);
  const type: P.ValueType = list ? 'list' : 'any';
  if (holder) {
    ctx.symbols.refer(holder[0], ctx.file, e.range, ctx.vars.get(holder[0])!.decl);
    return { expr: { hl7: read, args: [{ ref: holder[0], src }], src }, type, hl7: resultHl7 };
  }
  const message = [...scope.hl7].find(([, h]) => h.kind === 'message');
  if (message) {
    const r: P.Hl7Read = { ...read, from: 'message', segment: p.segment };
    if (p.segmentRep === '*') r.all = true;
    return { expr: { hl7: r, args: [{ ref: message[0], src }], src }, type, hl7: resultHl7 };
  }
  const segs = [...scope.hl7].filter(([, h]) => h.kind === 'segment').map(([n, h]) => `${n}: ${(h as { segment: string }).segment}`);
  ctx.r.error('HDC8002', e.range, `no parameter holds a ${p.segment} segment`,
    `Add a parameter (${p.segment.toLowerCase()}: ${p.segment}) or a message parameter (msg: message)${segs.length ? `; the segments here: ${segs.join(', ')}` : ''}.`);
  return { expr: { lit: null, src }, type: 'any' };
}

/** Names and chains on HL7 values: `obx.5`, `cx.4.1`, `pid.3[*]`, `OBX[*]` (with a message parameter). */
function lowerChain(e: A.RefExpr | A.MemberExpr | A.IndexExpr, ctx: ExprContext, scope: TransformScope, struct: boolean): Lowered | undefined {
  const chain: Array<{ key: string | number; bracket: boolean; range: A.Range }> = [];
  let node: A.Expr = e;
  while (node.kind === 'member' || node.kind === 'index') {
    if (node.kind === 'member') chain.unshift({ key: node.property.name, bracket: false, range: node.property.range });
    else chain.unshift({ key: node.index, bracket: ctx.r.textOf(node.indexRange)?.startsWith('[') ?? false, range: node.indexRange });
    node = node.object;
  }
  if (node.kind !== 'ref') return undefined;
  const src = ctx.src(e.range);
  const h = scope.hl7.get(node.name);
  const message = [...scope.hl7].find(([, x]) => x.kind === 'message');
  if (!h) {
    // A segment ID with a message parameter: its first occurrence, or every one with [*].
    if (!ctx.vars.has(node.name) && SEGMENT_ID.test(node.name) && message) {
      const all = chain[0]?.key === '*' && chain[0].bracket;
      checkTransformHl7Path(scope.version, { text: node.name, segment: node.name }, node, node.range, ctx.r, ctx.file);
      const read: P.Hl7Read = { from: 'message', segment: node.name };
      if (all) read.all = true;
      if (chain.length > (all ? 1 : 0)) {
        ctx.r.error('HDC8009', e.range, `${node.name}: read its fields with an HL7 path`, `Write ${node.name}-5.1 (or ${node.name}[*]-5), or loop: for s in ${node.name}[*]: s.5.`);
      }
      return { expr: { hl7: read, args: [{ ref: message[0], src }], src }, type: all ? 'list' : 'any', hl7: all ? { kind: 'group', segment: node.name } : { kind: 'segment', segment: node.name } };
    }
    return undefined;
  }
  const decl = ctx.vars.get(node.name)?.decl;
  if (decl) ctx.symbols.refer(node.name, ctx.file, node.range, decl);
  const base: P.Expr = { ref: node.name, src: ctx.src(node.range) };
  if (!chain.length) {
    // A composite used as a value reads as its text (its first leaf); as an argument it stays whole.
    if (h.kind === 'composite' && !struct) return { expr: { hl7: { from: 'composite' }, args: [base], src }, type: 'any' };
    return { expr: base, type: h.kind === 'group' ? 'list' : 'any', hl7: h };
  }
  const bad = (why: string): Lowered => {
    ctx.r.error('HDC8009', e.range, why, h.kind === 'segment' ? `Read a field: ${node.name}.5, ${node.name}.5.1, ${node.name}.3[*]` : `Read a component: ${node.name}.1 or ${node.name}.4.2`);
    return { expr: { lit: null, src }, type: 'any' };
  };
  const nums = chain.map((c) => c.key);
  if (h.kind === 'segment') {
    const read: P.Hl7Read = { from: 'segment' };
    let i = 0;
    if (typeof nums[i] !== 'number' || chain[i]!.bracket) return bad(`${node.name} is a ${h.segment} segment: read a field by number`);
    read.field = nums[i++] as number;
    if (i < nums.length && chain[i]!.bracket) {
      const rep = nums[i++]!;
      if (rep !== '*' && (typeof rep !== 'number' || rep < 1)) return bad('a repetition is [*] or a number from 1');
      read.rep = rep as number | '*';
    }
    if (i < nums.length) { if (typeof nums[i] !== 'number') return bad('components are numbers'); read.component = nums[i++] as number; }
    if (i < nums.length) { if (typeof nums[i] !== 'number') return bad('subcomponents are numbers'); read.subcomponent = nums[i++] as number; }
    if (i < nums.length) return bad('an HL7 read stops at a subcomponent');
    const text = `${h.segment}-${read.field}${read.rep !== undefined ? `[${read.rep}]` : ''}${read.component !== undefined ? `.${read.component}` : ''}${read.subcomponent !== undefined ? `.${read.subcomponent}` : ''}`;
    checkTransformHl7Path(scope.version, { text, segment: h.segment, field: read.field, fieldRep: read.rep, component: read.component, subcomponent: read.subcomponent }, e, e.range, ctx.r, ctx.file, true);
    const keep = struct && read.subcomponent === undefined;
    if (keep) read.struct = true;
    return { expr: { hl7: read, args: [base], src }, type: read.rep === '*' ? 'list' : 'any', hl7: keep ? { kind: 'composite', type: '' } : undefined };
  }
  if (h.kind === 'composite') {
    if (nums.length > 2 || nums.some((n) => typeof n !== 'number') || chain.some((c) => c.bracket)) return bad(`${node.name} is an HL7 composite: read a component (.1) or subcomponent (.4.2)`);
    const read: P.Hl7Read = { from: 'composite', component: nums[0] as number };
    if (nums.length === 2) read.subcomponent = nums[1] as number;
    const keep = struct && read.subcomponent === undefined;
    if (keep) read.struct = true;
    return { expr: { hl7: read, args: [base], src }, type: 'any', hl7: keep ? { kind: 'composite', type: '' } : undefined };
  }
  return undefined;
}
