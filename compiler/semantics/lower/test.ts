// Lowering of test blocks: the message or launch sent, mocks and expectations.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable, Declaration, SymbolKind } from '../symbols.ts';
import { lowerExpr, type ExprContext, type VarInfo } from '../lower-expr.ts';
import { checkFhirType } from '../fhir-checks.ts';
import { posix } from 'node:path';

import { builtin } from './workflow.ts';
// ---- tests -------------------------------------------------------------------------------------
export function lowerTest(
  d: A.TestDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable,
  refTop: (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what?: SymbolKind) => Declaration | undefined,
  fileExists: (path: string) => boolean,
): P.TestCase {
  const tc: P.TestCase = { name: d.name.value, mocks: [], expects: [], src: src(d.range) };
  const fixture = (f: A.StringLit | A.FileCall | A.Expr, json: boolean): P.Fixture => {
    if ('kind' in f && f.kind === 'file') {
      if (f.path.kind !== 'string') {
        r.error('HDC7002', f.path.range, 'test fixtures are plain paths', 'Write: file("fixtures/message.hl7")');
        return { text: '' };
      }
      const rel = joinPath(dirOf(file), f.path.value);
      if (!fileExists(rel)) r.error('HDC7002', f.path.range, `fixture ${f.path.raw} not found`, `Looked for ${rel}.`);
      return { file: rel };
    }
    if (f.kind === 'string') return { text: f.value };
    const ectx: ExprContext = { file, r, symbols, vars: new Map(), src };
    if (json) return { json: lowerExpr(f as A.Expr, ectx).expr };
    return { text: f.kind === 'literal' && typeof f.value === 'string' ? f.value : '' };
  };
  let senderName: string | undefined;
  for (const st of d.body) {
    switch (st.kind) {
      case 'error': break;
      case 'send':
        if (refTop(r, file, 'sender', st.sender)) senderName = st.sender.name;
        tc.send = { sender: st.sender.name, message: fixture(st.message, false), src: src(st.range) };
        break;
      case 'launch': {
        refTop(r, file, 'launch', st.launch);
        const ectx: ExprContext = { file, r, symbols, vars: new Map(), src };
        tc.launch = { name: st.launch.name, context: lowerExpr(st.context, ectx).expr, src: src(st.range) };
        if (st.user) tc.launch.user = lowerExpr(st.user, ectx).expr;
        break;
      }
      case 'mock': {
        const m: P.Mock = { status: st.status?.value ?? 200, response: st.returns ? fixture(st.returns as A.Expr, true) : { text: '' }, src: src(st.range) };
        if (st.api) { refTop(r, file, 'api', st.api); m.api = st.api.name; }
        if (st.step) {
          m.step = st.step.name;
          const known = symbols.declarations.some((x) => x.kind === 'step' && x.name === st.step!.name);
          if (!known) r.error('HDC7001', st.step.range, `no workflow has a step named "${st.step.name}"`, 'Mock a named step (name = get …), or mock by API and path.');
        }
        if (st.resourceType) { checkFhirType(st.resourceType, r); m.resourceType = st.resourceType.name; }
        if (st.urlPath) m.urlPath = st.urlPath.value;
        if (st.method) m.method = st.method.name.toUpperCase();
        tc.mocks.push(m);
        break;
      }
      case 'expect': {
        const e: P.Expectation = { kind: st.what, src: src(st.range) };
        const vars = new Map<string, VarInfo>();
        const bind = (name: string) => vars.set(name, builtin(name, file, 'any'));
        if (st.what === 'ack') {
          e.code = st.code!.name;
          if (st.text) e.text = st.text.value;
        }
        if (st.what === 'field') {
          e.name = st.name!.name;
          const known = symbols.declarations.find((x) => x.kind === 'field' && x.name === st.name!.name && (!senderName || x.container === senderName));
          if (!known) r.error('HDC7001', st.name!.range, `field "${st.name!.name}" is not mapped${senderName ? ` by sender ${senderName}` : ''}`, 'Expect a field the sender maps.');
          else symbols.refer(st.name!.name, file, st.name!.range, known);
          bind('value');
        }
        if (st.what === 'request' || st.what === 'no_request') {
          refTop(r, file, 'api', st.api!);
          e.api = st.api!.name;
          if (st.method) e.method = st.method.name.toUpperCase();
          if (st.urlPath) e.urlPath = st.urlPath.value;
          bind('request');
        }
        if (st.what === 'stored') { e.name = st.collection!.value; bind('records'); }
        if (st.what === 'redirect') { e.text = st.text!.value; bind('url'); bind('params'); }
        if (st.cond) e.cond = lowerExpr(st.cond, { file, r, symbols, vars, src }).expr;
        tc.expects.push(e);
        break;
      }
    }
  }
  if (!tc.send && !tc.launch) r.error('HDC2006', d.name.range, `test ${d.name.raw} sends nothing`, 'Start with: send file("fixtures/message.hl7") to SENDER, or launch NAME with { patient: "…" }.');
  return tc;
}

const dirOf = (p: string) => posix.dirname(p);
/** A fixture path relative to its .hdc file; an absolute .hdc path keeps its leading "/". */
const joinPath = (dir: string, rel: string): string => (rel.startsWith('/') ? rel : posix.join(dir, rel));
