// Layout items for top-level declarations and what sits in their bodies: settings, sender
// matches / fields / routes, SMART launch login / fetch / map / redirect. Members a parser keeps in
// separate lists are merged back into source order.
import type * as A from '../syntax/ast.ts';
import type { FormatContext } from './context.ts';
import { group, indent, line, type Doc } from './doc.ts';
import type { Block, Item } from './layout.ts';
import type { Braces } from './source-tokens.ts';
import { stmtItem, testStmtItem } from './statements.ts';

export function declItem(ctx: FormatContext, d: A.Decl): Item {
  switch (d.kind) {
    case 'import': {
      const it = ctx.item(d.range, [], () => ['import ' + d.path.raw]);
      it.isImport = true;
      return it;
    }
    case 'store_decl':
      return ctx.item(d.range, [], () => [`store ${d.storeKind.name}${d.url ? ' ' + ctx.atom(d.url) : ''}`]);
    case 'auth': {
      const body = ctx.body(d.authKind.range.end.offset, d.settings.map((s) => settingItem(ctx, s)));
      return ctx.item(d.range, [body], (ind) => ctx.braced(`auth ${d.name.name} ${d.authKind.name}`, body, ind));
    }
    case 'api': {
      const hasBody = d.range.end.offset > d.baseUrl.range.end.offset;
      const body = hasBody ? ctx.body(d.baseUrl.range.end.offset, d.settings.map((s) => settingItem(ctx, s))) : undefined;
      const head = `api ${d.name.name} ${d.apiKind.name} ${ctx.atom(d.baseUrl)}`;
      return ctx.item(d.range, body ? [body] : [], (ind) => {
        const empty = body && body.items.length === 0 && body.dangling.length === 0;
        return ctx.braced(head, empty ? undefined : body, ind);
      });
    }
    case 'sender':
      return senderItem(ctx, d);
    case 'workflow': {
      const items = [...d.settings.map((s) => settingItem(ctx, s)), ...d.body.map((s) => stmtItem(ctx, s))];
      const body = ctx.body(d.name.range.end.offset, items);
      return ctx.item(d.range, [body], (ind) => ctx.braced(`workflow ${d.name.name}`, body, ind));
    }
    case 'launch':
      return launchItem(ctx, d);
    case 'map': {
      const entries = d.entries.map((e) => ctx.item(e.range, [], () => [`${e.key.raw}: ${e.value.raw}`]));
      if (d.else) {
        const range = { start: d.elseRange!.start, end: d.else.range.end };
        entries.push(ctx.item(range, [], () => [`else: ${d.else!.raw}`]));
      }
      const head = `map ${d.name.name}${d.system ? ` to ${d.system.raw}` : ''}`;
      const body = ctx.body((d.system ?? d.name).range.end.offset, entries);
      return ctx.item(d.range, [body], (ind) => ctx.braced(head, body, ind));
    }
    case 'transform':
      // Kept as written: a transform body is data laid out by its author.
      return Object.assign(ctx.item(d.range, [], () => [ctx.raw(d.range)]), { verbatim: true });
    case 'module': {
      const headEnd = (d.from ?? d.name ?? d.keyword).range.end.offset;
      const body = ctx.body(headEnd, d.settings.map((s) => settingItem(ctx, s)));
      const head = `${d.keyword.name}${d.name ? ` ${d.name.name}` : ''}${d.from ? ` from ${d.from.name}` : ''}`;
      return ctx.item(d.range, [body], (ind) => ctx.braced(head, body, ind));
    }
    case 'test': {
      const body = ctx.body(d.name.range.end.offset, d.body.map((s) => testStmtItem(ctx, s)));
      return ctx.item(d.range, [body], (ind) => ctx.braced(`test ${d.name.raw}`, body, ind));
    }
  }
}

export function settingItem(ctx: FormatContext, s: A.Setting): Item {
  const head = s.key.name + ctx.atoms(s.values);
  const after = (s.values.at(-1) ?? s.key).range.end.offset;
  const body = s.block ? ctx.body(after, s.block.map((b) => settingItem(ctx, b))) : undefined;
  return ctx.item(s.range, body ? [body] : [], (ind) => ctx.braced(head, body, ind));
}

// ---- sender ----

function senderItem(ctx: FormatContext, d: A.SenderDecl): Item {
  const items: Item[] = [
    ...d.settings.map((s) => settingItem(ctx, s)),
    ...d.matches.map((m) => ctx.item(m.range, [], () => [matchText(ctx, m)])),
    ...d.routes.map((r) => ctx.item(r.range, [], () => [`on ${r.types.map((t) => ctx.raw(t.range)).join(', ')} run ${r.workflow.name}`])),
    ...groupsByBody(ctx, d.fields, d.fieldsRange).map(({ braces, start, members }) =>
      groupItem(ctx, 'fields', start, braces, members.map((f) => fieldItem(ctx, f)))),
  ];
  const body = ctx.body(d.name.range.end.offset, items);
  return ctx.item(d.range, [body], (ind) => ctx.braced(`sender ${d.name.name}`, body, ind));
}

function matchText(ctx: FormatContext, m: A.MatchClause): string {
  const path = ctx.raw(m.path.range);
  const values = m.values.map((v) => v.raw);
  if (values.length === 1) return `match ${path} ${m.op} ${values[0]}`;
  return `match ${path} ${m.op === '==' ? 'in' : 'not in'} [${values.join(', ')}]`;
}

function fieldItem(ctx: FormatContext, f: A.FieldDecl): Item {
  if (f.each) {
    const body = ctx.body(f.each.range.end.offset, (f.fields ?? []).map((g) => fieldItem(ctx, g)));
    return ctx.item(f.range, [body], (ind) => ctx.braced(`${f.name.name} = each ${f.each!.name}`, body, ind));
  }
  const doc: Doc = [
    f.name.name, ' = ', f.path ? ctx.raw(f.path.range) : '',
    f.where ? [' where ', ctx.exprs.expr(f.where)] : '',
    f.select ? ' -> .' + f.select.components.join('.') : '',
    f.as ? ' as ' + f.as.name : '',
    f.map ? ' -> ' + f.map.name : '',
  ];
  return ctx.item(f.range, [], (ind) => ctx.lines(doc, ind));
}

/**
 * Members of `fields { … }` / `fetch { … }` bodies, grouped by the body they were written in (a
 * block may hold several). An empty body is kept only when it is the only one.
 */
function groupsByBody<T extends A.Node>(ctx: FormatContext, members: T[], lastRange: A.Range | undefined): Array<{ braces: Braces; start: number; members: T[] }> {
  const groups = new Map<number, { braces: Braces; start: number; members: T[] }>();
  for (const m of members) {
    const around = ctx.tokens.enclosingBraces(m.range.start.offset);
    if (!around) continue;
    const key = around.braces.open;
    if (!groups.has(key)) groups.set(key, { braces: around.braces, start: around.before?.startOffset ?? key, members: [] });
    groups.get(key)!.members.push(m);
  }
  if (groups.size === 0 && lastRange) {
    const braces = ctx.tokens.bracesAfter(lastRange.start.offset);
    if (braces) groups.set(braces.open, { braces, start: lastRange.start.offset, members: [] });
  }
  return [...groups.values()];
}

function groupItem(ctx: FormatContext, keyword: string, start: number, braces: Braces, members: Item[]): Item {
  const body = ctx.bodyIn(braces, members);
  return ctx.itemTo(start, braces, [body], (ind) => ctx.braced(keyword, body, ind));
}

// ---- smart launch ----

function launchItem(ctx: FormatContext, d: A.LaunchDecl): Item {
  const items: Item[] = [
    ...d.settings.map((s) => settingItem(ctx, s)),
    ...groupsByBody(ctx, d.fetch, d.fetchRange).map(({ braces, start, members }) =>
      groupItem(ctx, 'fetch', start, braces, members.map((s) => stmtItem(ctx, s)))),
  ];
  if (d.login) items.push(loginItem(ctx, d.login));
  if (d.map) items.push(mapItem(ctx, d.map));
  if (d.redirect) items.push(redirectItem(ctx, d.redirect));
  const body = ctx.body(d.name.range.end.offset, items);
  return ctx.item(d.range, [body], (ind) => ctx.braced(`smart launch ${d.name.name}`, body, ind));
}

/** `map { … }`: the item starts at the `map` keyword before the object. */
function mapItem(ctx: FormatContext, map: A.ObjectExpr): Item {
  const start = ctx.tokens.tokenBefore(map.range.start.offset)?.startOffset ?? map.range.start.offset;
  const it = ctx.item(map.range, [], (ind) => ctx.lines(['map ', ctx.exprs.object(map)], ind));
  it.start = start;
  return it;
}

function loginItem(ctx: FormatContext, l: A.LoginDecl): Item {
  const head = `login ${l.method.name}`;
  if (l.range.end.offset <= l.method.range.end.offset) return ctx.item(l.range, [], () => [head]);
  const items = l.settings.map((s) => settingItem(ctx, s));
  if (l.require) {
    const req = l.require;
    const it = ctx.item(req.range, [], (ind) => ctx.lines(['require ', ctx.exprs.expr(req)], ind));
    it.start = ctx.tokens.tokenBefore(req.range.start.offset)?.startOffset ?? it.start;
    items.push(it);
  }
  if (l.map) items.push(mapItem(ctx, l.map));
  const body = ctx.body(l.method.range.end.offset, items);
  return ctx.item(l.range, [body], (ind) => ctx.braced(head, body, ind));
}

function redirectItem(ctx: FormatContext, r: A.RedirectDecl): Item {
  const rules = [...r.rules, ...(r.otherwise ? [r.otherwise] : [])].map((rule) => {
    const target: Doc = ['to ', rule.to.raw, rule.with ? [' with ', ctx.exprs.object(rule.with)] : ''];
    // A long `when` rule puts its target on the next line, under the condition.
    const doc: Doc = rule.when ? group(['when ', ctx.exprs.expr(rule.when), indent([line, target])]) : ['otherwise ', target];
    return ctx.item(rule.range, [], (ind) => ctx.lines(doc, ind));
  });
  const body: Block = ctx.body(r.range.start.offset, rules);
  return ctx.item(r.range, [body], (ind) => ctx.braced('redirect', body, ind));
}
