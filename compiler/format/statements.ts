// Layout items for workflow / fetch statements and test statements.
import type * as A from '../syntax/ast.ts';
import type { FormatContext } from './context.ts';
import { group, indent, line, type Doc } from './doc.ts';
import { Prec } from './expr-doc.ts';
import type { Block, Item } from './layout.ts';

/** A path written as a string (older trees) or a template expression. */
export function urlDoc(ctx: FormatContext, u: A.Expr | A.StringLit): Doc {
  return u.kind === 'string' ? u.raw : ctx.exprs.expr(u);
}

export function stmtItem(ctx: FormatContext, s: A.Stmt): Item {
  const x = ctx.exprs;
  switch (s.kind) {
    case 'if':
      return ifItem(ctx, s);
    case 'for': {
      const body = ctx.body(s.over.range.end.offset, s.body.map((b) => stmtItem(ctx, b)));
      const head: Doc = ['for each ', s.variable.name, ' in ', x.expr(s.over)];
      return ctx.item(s.range, [body], (ind) => ctx.braced(head, body, ind));
    }
    case 'let':
      return leaf(ctx, s, [s.assign ? '' : 'let ', s.name.name, ' = ', x.expr(s.value)]);
    case 'store':
      return leaf(ctx, s, [
        'store ', x.expr(s.value, Prec.additive), ' in ', s.collection.raw,
        s.key ? [' key ', x.expr(s.key)] : '',
      ]);
    case 'send':
      return leaf(ctx, s, [
        'send ', s.value === 'message' ? 'message' : x.expr(s.value), ' to ', s.api.name,
        s.urlPath ? [' path ', urlDoc(ctx, s.urlPath)] : '',
      ]);
    case 'reject':
      return leaf(ctx, s, ['reject ', s.code.name, ' ', x.expr(s.text)]);
    case 'request':
      return s.response ? responseStmtItem(ctx, s, s.response) : leaf(ctx, s, requestDoc(ctx, s));
    case 'error':
      return leaf(ctx, s, ctx.raw(s.range));
  }
}

function leaf(ctx: FormatContext, node: A.Node, doc: Doc): Item {
  return ctx.item(node.range, [], (ind) => ctx.lines(doc, ind));
}

/**
 * A request: its head, then its clauses (query, headers, body, where, if_none_exist). When two or
 * more clauses do not fit on the line, each goes on its own indented line.
 */
function requestDoc(ctx: FormatContext, s: A.RequestStmt): Doc {
  const x = ctx.exprs;
  const head: Doc[] = [];
  const clauses: Doc[] = [];
  if (s.target) head.push(s.target.name, ' = ');
  head.push(s.verb);
  if (s.protocol === 'rest') {
    head.push(' ', s.api?.name ?? '');
    if (s.urlPath) head.push(' ', urlDoc(ctx, s.urlPath));
    if (s.query) clauses.push(['query ', x.expr(s.query)]);
    if (s.headers) clauses.push(['headers ', x.expr(s.headers)]);
    if (s.body) clauses.push(['body ', x.expr(s.body)]);
  } else {
    if (s.api) head.push(' ', s.api.name);
    if (s.resourceType) head.push(' ', s.resourceType.name);
    switch (s.verb) {
      case 'read':
      case 'delete':
        if (s.id) head.push(' ', x.expr(s.id));
        break;
      case 'search':
        if (s.params) head.push(' ', x.object(s.params));
        if (s.pages) head.push(' pages ', ctx.raw(s.pages.range));
        break;
      case 'create':
        if (s.body) clauses.push(['body ', x.expr(s.body)]);
        if (s.conditional) clauses.push(['if_none_exist ', x.object(s.conditional)]);
        break;
      case 'update':
      case 'patch':
        if (s.conditional) clauses.push(['where ', x.object(s.conditional)]);
        else if (s.id) head.push(' ', x.expr(s.id));
        if (s.body) clauses.push(['body ', x.expr(s.body)]);
        break;
    }
  }
  if (clauses.length < 2) return [head, clauses.map((c) => [' ', c])];
  return group([head, indent(clauses.map((c) => [line, c]))]);
}

/** A request with `response { … }`: the request, then the declared fields as a body. */
function responseStmtItem(ctx: FormatContext, s: A.RequestStmt, response: A.ResponseDecl): Item {
  const body = ctx.body(response.range.start.offset, response.fields.map((f) => responseFieldItem(ctx, f)));
  return ctx.item(s.range, [body], (ind) => {
    const head = ctx.lines(requestDoc(ctx, s), ind);
    const pad = ' '.repeat(ind + 2);
    // When the clauses went on their own lines, the response block is one more clause.
    const clausesSplit = head.length > 1 && head[1]!.startsWith(pad) && /^(query|headers|body) /.test(head[1]!.slice(pad.length));
    if (!clausesSplit) return ctx.braced([requestDoc(ctx, s), ' response'], body, ind);
    return [...head, ...ctx.braced('response', body, ind + 2).map((l, i) => (i === 0 ? pad + l : l))];
  });
}

function responseFieldItem(ctx: FormatContext, f: A.ResponseFieldDecl): Item {
  const optional = f.optional ? ' optional' : '';
  if (f.fields) {
    const body = ctx.body(f.path.range.end.offset, f.fields.map((g) => responseFieldItem(ctx, g)));
    return ctx.item(f.range, [body], (ind) => {
      const out = ctx.braced([f.name.name, ' = each ', ctx.exprs.expr(f.path)], body, ind);
      out[out.length - 1] += optional;
      return out;
    });
  }
  const doc: Doc = [f.name.name, ' = ', ctx.exprs.expr(f.path), f.as ? ' as ' + f.as.name : '', optional];
  return ctx.item(f.range, [], (ind) => ctx.lines(doc, ind));
}

/** `if … { } else if … { } else { }` — one item whose bodies are every branch of the chain. */
function ifItem(ctx: FormatContext, s: A.IfStmt): Item {
  const branches: Array<{ head: Doc; body: Block }> = [];
  let head: Doc = ['if ', ctx.exprs.expr(s.cond)];
  for (let cur: A.IfStmt | undefined = s; cur; ) {
    branches.push({ head, body: ctx.body(cur.cond.range.end.offset, cur.then.map((b) => stmtItem(ctx, b))) });
    const elseStart = cur.elseRange?.end.offset;
    const next: A.Stmt | undefined = cur.else?.[0];
    if (cur.else && elseStart !== undefined && next?.kind === 'if' && cur.else.length === 1 && isElseIf(ctx, elseStart, next)) {
      head = ['} else if ', ctx.exprs.expr(next.cond)];
      cur = next;
    } else {
      if (cur.else && elseStart !== undefined) {
        branches.push({ head: '} else', body: ctx.body(elseStart, cur.else.map((b) => stmtItem(ctx, b))) });
      }
      cur = undefined;
    }
  }
  return ctx.item(s.range, branches.map((b) => b.body), (ind) => {
    if (branches.length === 1) return ctx.braced(branches[0]!.head, branches[0]!.body, ind);
    const pad = ' '.repeat(ind);
    const out: string[] = [];
    branches.forEach((b, i) => {
      // Every branch after the first starts with the previous one's `}`.
      const head = ctx.lines([b.head, ' {' + ctx.blocks.afterOpen(b.body)], ind);
      if (i > 0) head[0] = pad + head[0];
      out.push(...head, ...ctx.blocks.lines(b.body, ind + 2, false, true));
    });
    out.push(pad + '}');
    return out;
  });
}

/** `else if` (no braces between `else` and the nested `if`), as opposed to `else { if … }`. */
function isElseIf(ctx: FormatContext, elseEnd: number, nested: A.IfStmt): boolean {
  const t = ctx.tokens.tokens[ctx.tokens.indexAt(elseEnd)];
  return t?.startOffset === nested.range.start.offset;
}

export function testStmtItem(ctx: FormatContext, s: A.TestStmt): Item {
  const x = ctx.exprs;
  switch (s.kind) {
    case 'send':
      return leaf(ctx, s, ['send ', s.message.kind === 'file' ? x.secret(s.message) : s.message.raw, ' to ', s.sender.name]);
    case 'launch':
      return leaf(ctx, s, ['launch ', s.launch.name, ' with ', x.object(s.context), s.user ? [' user ', x.object(s.user)] : '']);
    case 'mock': {
      const parts: Doc[] = ['mock'];
      if (s.step) parts.push(' step ', s.step.name);
      else {
        if (s.api) parts.push(' ', s.api.name);
        if (s.method) parts.push(' ', s.method.name);
        if (s.urlPath) parts.push(' ', s.urlPath.raw);
        if (s.resourceType) parts.push(' ', s.resourceType.name);
      }
      // `returns … status N`: the one order every form of mock accepts.
      if (s.returns) parts.push(' returns ', s.returns.kind === 'file' ? x.secret(s.returns) : x.expr(s.returns));
      if (s.status) parts.push(' status ', ctx.raw(s.status.range));
      return leaf(ctx, s, parts);
    }
    case 'expect':
      return leaf(ctx, s, expectDoc(ctx, s));
    case 'error':
      return leaf(ctx, s, ctx.raw(s.range));
  }
}

function expectDoc(ctx: FormatContext, e: A.TestExpect): Doc {
  const x = ctx.exprs;
  const where: Doc = e.cond ? [' where ', x.expr(e.cond)] : '';
  switch (e.what) {
    case 'ack':
      return ['expect ack ', e.code?.name ?? '', e.text ? [' ', e.text.raw] : ''];
    case 'field': {
      const c = e.cond;
      const test: Doc = c?.kind === 'binary' ? [' ', c.op, ' ', x.expr(c.right, Prec.additive)] : '';
      return ['expect field ', e.name?.name ?? '', test];
    }
    case 'request':
    case 'no_request':
      return [
        e.what === 'request' ? 'expect request ' : 'expect no request ', e.api?.name ?? '',
        e.method ? [' ', e.method.name] : '', e.urlPath ? [' ', e.urlPath.raw] : '', where,
      ];
    case 'stored':
      return ['expect stored ', e.collection?.raw ?? '', where];
    case 'redirect':
      return ['expect redirect ', e.text?.raw ?? '', where];
  }
}
