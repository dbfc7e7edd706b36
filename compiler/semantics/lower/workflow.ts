// Lowering of workflow bodies (also a launch's fetch block): scopes, step ids, statements.
import { optionalFetch } from '../launch-checks.ts';
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable, Declaration, SymbolKind } from '../symbols.ts';
import { lowerExpr, type ExprContext, type VarInfo } from '../lower-expr.ts';
import * as S from '../settings.ts';
import { checkFhirType, checkSearchParamName } from '../fhir-checks.ts';
import { checkPatchBody } from '../fhir-patch.ts';
import { lowerResponse } from '../response-shape.ts';
import { checkFhirBody } from '../fhir-body-checks.ts';
import { mapOutputs } from '../value-maps.ts';
import { builtinFields } from '../../specs/enumerations.ts';
import type { ModuleInputs } from '../resolve.ts';

// ---- workflows ---------------------------------------------------------------------------------
export interface BodyContext {
  file: string;
  r: Reporter;
  symbols: SymbolTable;
  container: string;
  src: (r: A.Range) => string;
  apiKinds: Map<string, string>;
  /** rest APIs' response formats (json, text, xml). */
  apiFormats?: Map<string, string>;
  refApi?: (id: A.Ident) => unknown;
  ids: Set<string>;
  counters: Record<string, number>;
  /** Launch fetch blocks use the launch's token: no API is named. */
  launch?: boolean;
}

export function lowerWorkflow(
  d: A.WorkflowDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable,
  routedBy: Array<{ d: A.SenderDecl; file: string }>, apiKinds: Map<string, string>,
  refTop: (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what?: SymbolKind) => Declaration | undefined,
  apiFormats?: Map<string, string>,
  moduleInputs?: ModuleInputs,
): P.Workflow {
  const s = S.readSettings(d.settings, S.workflowSpec, `workflow ${d.name.name}`, r, d.name.range);
  // Fields visible: those every routing sender maps.
  const vars = new Map<string, VarInfo>();
  const missing = new Map<string, string>();
  const fieldDecls = new Map<string, Declaration>();
  for (const s of routedBy) for (const decl of symbols.fieldsOf(s.d.name.name)) fieldDecls.set(`${decl.container}:${decl.name}`, decl);
  const allNames = new Set([...fieldDecls.values()].map((x) => x.name));
  for (const name of allNames) {
    const lacking = routedBy.find((s) => !fieldDecls.has(`${s.d.name.name}:${name}`));
    const decl = [...fieldDecls.values()].find((x) => x.name === name)!;
    if (lacking) missing.set(name, lacking.d.name.name);
    else vars.set(name, { decl, type: decl.type ?? 'any', keys: decl.keys });
  }
  vars.set('message', builtin('message', file, 'record', [...builtinFields.message]));
  // A module block that runs this workflow (Bulk FHIR's `on Patient run …`) gives it its inputs.
  for (const [name, input] of Object.entries(moduleInputs ?? {})) if (!vars.has(name)) vars.set(name, builtin(name, file, input.type, input.keys ? [...input.keys] : undefined));

  const ctx: BodyContext = { file, r, symbols, container: d.name.name, src, apiKinds, apiFormats, ids: new Set(), counters: {}, refApi: (id) => refTop(r, file, 'api', id) };
  const firstRef = symbols.references.length;
  const steps = lowerBody(d.body, ctx, vars, d.range.end.offset, missing);
  const used = new Set<string>();
  for (const ref of symbols.references.slice(firstRef)) if (ref.target.kind === 'field') used.add(ref.name);
  const wf: P.Workflow = { name: d.name.name, inputs: [...used].sort(), steps, src: src(d.range) };
  const conc = S.settingNumber(s.get('concurrency'));
  if (conc !== undefined) wf.concurrency = conc;
  const ob = s.get('order_by')?.[0]?.values[0];
  if (ob?.kind === 'name') {
    const ectx: ExprContext = { file, r, symbols, vars, src };
    wf.orderBy = lowerExpr({ kind: 'ref', name: ob.name, range: ob.range }, ectx).expr;
  }
  return wf;
}

/** Loop variables are visible inside their loop only. */
export const isLoopVar = (d: Declaration) => d.kind === 'variable' && d.detail === 'loop';

export function builtin(name: string, file: string, type: P.ValueType, keys?: string[]): VarInfo {
  const none = { line: 0, col: 0, offset: -1 };
  return { decl: { kind: 'variable', name, file, range: { start: none, end: none }, declRange: { start: none, end: none }, type, detail: 'built-in' }, type, keys };
}

/** Names a body defines, with the index of the top-level statement defining them. */
function definedNames(body: A.Stmt[], file: string): Map<string, { index: number; decl: Declaration }> {
  const out = new Map<string, { index: number; decl: Declaration }>();
  const visit = (stmts: A.Stmt[], index: number) => {
    for (const st of stmts) {
      if (st.kind === 'request' && st.target && !out.has(st.target.name)) out.set(st.target.name, { index, decl: { kind: 'step', name: st.target.name, file, range: st.target.range, declRange: st.range } });
      if (st.kind === 'let' && !st.assign && !out.has(st.name.name)) out.set(st.name.name, { index, decl: { kind: 'variable', name: st.name.name, file, range: st.name.range, declRange: st.range } });
      if (st.kind === 'if') { visit(st.then, index); visit(st.else ?? [], index); }
      if (st.kind === 'for') visit(st.body, index);
    }
  };
  body.forEach((st, i) => visit([st], i));
  return out;
}

export function lowerBody(body: A.Stmt[], ctx: BodyContext, outer: Map<string, VarInfo>, scopeEnd: number, missing = new Map<string, string>()): P.Step[] {
  const vars = new Map(outer);
  const steps: P.Step[] = [];
  const defined = definedNames(body, ctx.file);
  body.forEach((st, i) => {
    // Steps defined later in this body: for "used before the step that defines it".
    const later = { get: (name: string) => { const d = defined.get(name); return d && d.index > i ? d.decl : undefined; } };
    const ectx: ExprContext = { file: ctx.file, r: ctx.r, symbols: ctx.symbols, vars, later, src: ctx.src };
    // Names mapped by some routing senders only: explain which sender lacks them.
    const reportMissing = (e: A.Expr | undefined) => e && walkRefs(e, (ref) => {
      if (!vars.has(ref.name) && missing.has(ref.name)) {
        ctx.r.error('HDC2001', ref.range, `"${ref.name}" is not mapped by sender ${missing.get(ref.name)}`,
          `Every sender that routes to this workflow must map "${ref.name}": add it to sender ${missing.get(ref.name)}'s fields.`);
        vars.set(ref.name, { decl: { kind: 'field', name: ref.name, file: ctx.file, range: ref.range, declRange: ref.range }, type: 'any' });
      }
    });
    if (missing.size) forEachExpr(st, reportMissing);
    const step = lowerStmt(st, ctx, vars, ectx, scopeEnd);
    if (step) steps.push(step);
  });
  return steps;
}

/** Whether an if statement gives `name` a value on every path through it. */
function assignedIn(st: A.IfStmt, name: string): boolean {
  const sets = (body: A.Stmt[] | undefined): boolean => (body ?? []).some((s) => (s.kind === 'let' && s.assign && s.name.name === name) || (s.kind === 'if' && assignedIn(s, name)));
  return sets(st.then) && sets(st.else);
}

function walkRefs(e: A.Expr, f: (r: A.RefExpr) => void): void {
  switch (e.kind) {
    case 'ref': f(e); break;
    case 'member': walkRefs(e.object, f); break;
    case 'index': walkRefs(e.object, f); break;
    case 'call': e.args.forEach((a) => walkRefs(a, f)); break;
    case 'binary': walkRefs(e.left, f); walkRefs(e.right, f); break;
    case 'unary': walkRefs(e.operand, f); break;
    case 'object': e.entries.forEach((en) => walkRefs(en.value, f)); break;
    case 'array': e.items.forEach((a) => walkRefs(a, f)); break;
    case 'template': e.parts.forEach((p) => typeof p !== 'string' && walkRefs(p, f)); break;
  }
}
function forEachExpr(st: A.Stmt, f: (e: A.Expr | undefined) => void): void {
  switch (st.kind) {
    case 'request': [st.id, st.params, st.conditional, st.urlPath, st.query, st.headers, st.body].forEach(f); break;
    case 'if': f(st.cond); break;
    case 'for': f(st.over); break;
    case 'let': f(st.value); break;
    case 'store': f(st.value); f(st.key); break;
    case 'send': if (st.value !== 'message') f(st.value); f(st.urlPath); break;
    case 'reject': f(st.text); break;
  }
}

function stepId(ctx: BodyContext, base: string): string {
  let id = base;
  for (let n = 2; ctx.ids.has(id); n++) id = `${base}_${n}`;
  ctx.ids.add(id);
  return id;
}

/** A FHIR interaction or a REST call: its API's kind checked, its parts lowered, its name declared. */
function lowerRequest(st: A.RequestStmt, ctx: BodyContext, vars: Map<string, VarInfo>, ex: (e: A.Expr) => { expr: P.Expr; type: P.ValueType }, autoId: (verb: string) => string, define: Define): P.Step {
  const { r, src } = ctx;
  const apiKind = st.api ? ctx.apiKinds.get(st.api.name) : undefined;
  if (st.api) ctx.refApi?.(st.api);
  else if (!ctx.launch) {
    r.error('HDC2001', st.verbRange, `${st.verb} needs an API`, st.protocol === 'fhir' ? `Write: ${st.verb} API ${st.resourceType?.name ?? 'Type'} …` : 'Write the API name.');
  }
  if (ctx.launch && st.api) r.error('HDC2011', st.api.range, 'launch fetches use the launch\'s FHIR server and token', `Drop "${st.api.name}": write ${st.verb} ${st.resourceType?.name ?? ''} …`);
  const id = st.target ? stepId(ctx, st.target.name) : autoId(st.verb);
  let step: P.Step;
  if (st.protocol === 'fhir') {
    if (apiKind && apiKind !== 'fhir') r.error('HDC2011', st.api!.range, `"${st.api!.name}" is a ${apiKind} API; ${st.verb} is a FHIR interaction`, `Use get/post/put/patch/delete ${st.api!.name} "/path" for ${apiKind} APIs.`);
    const type = st.resourceType!;
    checkFhirType(type, r);
    const interaction: P.Step['interaction'] =
      st.verb === 'create' ? (st.conditional ? 'conditional_create' : 'create')
      : st.verb === 'update' ? (st.conditional ? 'conditional_update' : 'update')
      : st.verb === 'patch' ? (st.conditional ? 'conditional_patch' : 'patch')
      : (st.verb as 'read');
    step = { id, kind: 'fhir', interaction, resourceType: type.name, src: src(st.range) };
    if (st.api) step.api = st.api.name;
    if (st.id) step.resourceId = ex(st.id).expr;
    const params = st.params ?? st.conditional;
    if (params) {
      for (const en of params.entries) checkSearchParamName(type.name, en.key, en.keyRange, r);
      step.params = ex(params).expr;
    }
    if (st.pages) step.maxPages = st.pages.value;
    if (st.optionalRange) optionalFetch(st.optionalRange, step, Boolean(ctx.launch), r);
    if (st.verb === 'patch') checkPatchBody(type.name, st.body, r);
    if (st.response) r.error('HDC2011', st.response.range, 'FHIR steps answer with resources; response declarations are for rest APIs', 'Remove the response block: read the resource\'s elements directly.');
    if (st.body) {
      step.body = ex(st.body).expr;
      if (st.verb !== 'patch') {
        checkFhirBody(type.name, st.body, st.verb === 'create' || st.verb === 'update', type.range,
          { r, typeOf: (name) => vars.get(name)?.type, mapOf: (name) => vars.get(name)?.decl.valueMap, mapOutputs: (name) => mapOutputs(ctx.symbols, name) });
      }
    }
  } else {
    const method = st.verb.toUpperCase() as P.Step['method'];
    step = { id, kind: 'rest', method, api: st.api!.name, urlPath: ex(st.urlPath!).expr, src: src(st.range) };
    if (apiKind === 'hl7') r.error('HDC2011', st.api!.range, `"${st.api!.name}" is an hl7 API`, 'Forward HL7 with: send message to ' + st.api!.name);
    if (st.query) step.query = ex(st.query).expr;
    if (st.headers) step.headers = ex(st.headers).expr;
    if (st.body) step.body = ex(st.body).expr;
  }
  let responseKeys: string[] | undefined;
  if (st.response && st.protocol === 'rest') {
    if (ctx.apiFormats?.get(st.api!.name) === 'text') {
      r.error('HDC6001', st.response.range, `"${st.api!.name}" answers with text, which has no fields`, `Declare format json or xml on api ${st.api!.name}, or remove the response block.`);
    }
    const shape = lowerResponse(st.response, r, src);
    step.response = shape.fields;
    responseKeys = shape.keys;
  }
  if (st.target) {
    step.named = true;
    // The same name in both branches of an if: two steps, one variable.
    if (id !== st.target.name) step.var = st.target.name;
    const search = st.protocol === 'fhir' && st.verb === 'search';
    define(st.target, 'step', { type: 'record', resourceType: st.resourceType?.name, search, keys: responseKeys, detail: `${st.verb} ${st.api?.name ?? ''} ${st.resourceType?.name ?? ''}`.replace(/\s+/g, ' ').trim() });
  }
  return step;
}

type Define = (name: A.Ident, kind: 'step' | 'variable', info: Partial<Declaration> & { type: P.ValueType }) => void;

function lowerStmt(st: A.Stmt, ctx: BodyContext, vars: Map<string, VarInfo>, ectx: ExprContext, scopeEnd: number): P.Step | undefined {
  const { r, src } = ctx;
  const ex = (e: A.Expr) => lowerExpr(e, ectx);
  // Unnamed steps are numbered per kind in source order, so reformatting never renames them.
  const autoId = (verb: string) => stepId(ctx, `${verb}_${(ctx.counters[verb] = (ctx.counters[verb] ?? 0) + 1)}`);
  const define: Define = (name, kind, info) => {
    const decl: Declaration = { kind, name: name.name, file: ctx.file, range: name.range, declRange: st.range, container: ctx.container, visible: { from: st.range.end.offset, to: scopeEnd }, ...info };
    ctx.symbols.declare(decl);
    const prior = vars.get(name.name);
    if (prior && prior.decl.detail !== 'built-in') {
      r.error('HDC2002', name.range, `"${name.name}" is already defined`, `It was defined at line ${prior.decl.range.start.line}; choose another name.`);
    } else if (prior?.decl.detail === 'built-in') {
      r.error('HDC2002', name.range, `"${name.name}" is a built-in name`, 'Choose another name.');
    }
    vars.set(name.name, { decl, type: info.type, keys: info.keys });
  };

  switch (st.kind) {
    case 'error': return undefined;
    case 'request': return lowerRequest(st, ctx, vars, ex, autoId, define);
    case 'if': {
      // A condition that reads a name set in only one branch of an earlier if tests it: inside the
      // condition and the branches, the name counts as checked.
      const guarded = new Map(vars);
      walkRefs(st.cond, (ref) => { const v = guarded.get(ref.name); if (v?.maybe) guarded.set(ref.name, { ...v, maybe: undefined }); });
      const cond = lowerExpr(st.cond, { ...ectx, vars: guarded });
      const firstDecl = ctx.symbols.declarations.length;
      const step: P.Step = { id: autoId('if'), kind: 'if', cond: cond.expr, then: lowerBody(st.then, ctx, guarded, scopeEnd), src: src(st.range) };
      if (st.else) step.else = lowerBody(st.else, ctx, guarded, scopeEnd);
      for (const [name, v] of vars) if (v.maybe && assignedIn(st, name)) vars.set(name, { ...v, maybe: undefined });
      // Names defined inside a branch stay visible after it, but unless both branches define them
      // they may be unset (null): a use must test them first (HDC2021).
      const inBranch = (decl: Declaration, body: A.Stmt[] | undefined) => (body ?? []).some((b) => b.range.start.offset <= decl.range.start.offset && decl.range.end.offset <= b.range.end.offset);
      const decls = ctx.symbols.declarations.slice(firstDecl).filter((d) => (d.kind === 'step' || d.kind === 'variable') && !isLoopVar(d));
      for (const decl of decls) {
        if (vars.has(decl.name)) continue;
        const both = decls.some((d) => d.name === decl.name && inBranch(d, st.then)) && decls.some((d) => d.name === decl.name && inBranch(d, st.else));
        vars.set(decl.name, { decl, type: decl.type ?? 'any', ...(both ? {} : { maybe: true }) });
      }
      return step;
    }
    case 'for': {
      const over = ex(st.over);
      if (['string', 'number', 'date', 'datetime', 'boolean'].includes(over.type)) {
        r.error('HDC6002', st.over.range, `for each needs a list; this is a ${over.type}`,
          'Iterate over a list: a field mapped with [*] or each, a search result\'s entry, or [a, b].');
      }
      const inner = new Map(vars);
      let keys: string[] | undefined;
      if (st.over.kind === 'ref') keys = vars.get(st.over.name)?.keys;
      const decl: Declaration = { kind: 'variable', detail: 'loop', name: st.variable.name, file: ctx.file, range: st.variable.range, declRange: st.range, container: ctx.container, visible: { from: st.variable.range.end.offset, to: st.range.end.offset }, type: keys ? 'record' : 'any', keys };
      ctx.symbols.declare(decl);
      inner.set(st.variable.name, { decl, type: decl.type!, keys });
      return { id: autoId('for_each'), kind: 'for_each', var: st.variable.name, over: over.expr, steps: lowerBody(st.body, ctx, inner, st.range.end.offset), src: src(st.range) };
    }
    case 'let': {
      const v = ex(st.value);
      const prior = vars.get(st.name.name);
      if (st.assign) {
        // `name = value`: a new value for a let variable defined before (or in an enclosing block).
        if (!prior) {
          lowerExpr({ kind: 'ref', name: st.name.name, range: st.name.range }, ectx);
        } else if (prior.decl.kind !== 'variable' || prior.decl.detail === 'loop' || prior.decl.detail === 'built-in') {
          const what = prior.decl.detail === 'loop' ? 'a loop variable' : prior.decl.detail === 'built-in' ? 'a built-in name' : `a ${prior.decl.kind}`;
          r.error('HDC2022', st.name.range, `"${st.name.name}" is ${what}, not a let variable`,
            `Only let variables take new values. Define one: let ${st.name.name}_value = …`);
        } else {
          ctx.symbols.refer(st.name.name, ctx.file, st.name.range, prior.decl);
          vars.set(st.name.name, { ...prior, type: prior.type === v.type ? v.type : 'any', maybe: undefined });
        }
        return { id: stepId(ctx, st.name.name), kind: 'let', var: st.name.name, value: v.expr, src: src(st.range) };
      }
      if (prior && prior.decl.kind === 'variable' && prior.decl.detail !== 'built-in') {
        r.error('HDC2020', st.name.range, `"${st.name.name}" is already defined`,
          `It was defined at line ${prior.decl.range.start.line}. To give it a new value, write ${st.name.name} = … without let; to keep both, choose another name.`,
          [{ replacement: '', range: { start: st.range.start, end: st.name.range.start }, label: 'Assign instead: drop let' }]);
        return { id: stepId(ctx, st.name.name), kind: 'let', var: st.name.name, value: v.expr, src: src(st.range) };
      }
      define(st.name, 'variable', { type: v.type });
      const letId = stepId(ctx, st.name.name);
      return { id: letId, named: true, kind: 'let', ...(letId !== st.name.name ? { var: st.name.name } : {}), value: v.expr, src: src(st.range) };
    }
    case 'store': {
      const step: P.Step = { id: autoId('store'), kind: 'store', value: ex(st.value).expr, collection: st.collection.value, src: src(st.range) };
      if (st.key) step.key = ex(st.key).expr;
      return step;
    }
    case 'send': {
      ctx.refApi?.(st.api);
      const kind = ctx.apiKinds.get(st.api.name);
      if (st.value === 'message' && kind === 'fhir') r.error('HDC2011', st.api.range, 'a FHIR API cannot take a raw HL7 message', 'Send it to an hl7 or rest API, or build a FHIR resource and create it.');
      if (st.value !== 'message' && kind === 'hl7') r.error('HDC2011', st.api.range, 'an hl7 API takes the HL7 message', `Write: send message to ${st.api.name}`);
      const step: P.Step = { id: autoId('send'), kind: 'send', api: st.api.name, payload: st.value === 'message' ? 'message' : 'value', src: src(st.range) };
      if (st.value !== 'message') step.value = ex(st.value).expr;
      if (st.urlPath) step.urlPath = ex(st.urlPath).expr;
      return step;
    }
    case 'reject': {
      return { id: autoId('reject'), kind: 'reject', code: st.code.name === 'AR' ? 'AR' : 'AE', text: ex(st.text).expr, src: src(st.range) };
    }
  }
}

