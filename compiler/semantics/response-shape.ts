// `response { … }` on a REST step: the declared shape of the answer. Each field reads a path of
// the response body, optionally converted (`as number`) or mapped over a list (`each`); the step's
// value becomes a record of exactly these fields, so later uses are checked against them.
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import { closest } from '../dictionaries/closest.ts';

export const RESPONSE_CONVERSIONS = ['string', 'number', 'boolean', 'date', 'datetime', 'list', 'record'] as const;

export interface LoweredResponse {
  fields: P.ResponseField[];
  /** The record's field names (what member access on the step result may read). */
  keys: string[];
}

export function lowerResponse(decl: A.ResponseDecl, r: Reporter, src: (r: A.Range) => string): LoweredResponse {
  const fields = lowerFields(decl.fields, r, src);
  return { fields, keys: [...new Set(fields.map((f) => f.name))] };
}

function lowerFields(decls: A.ResponseFieldDecl[], r: Reporter, src: (r: A.Range) => string): P.ResponseField[] {
  const seen = new Set<string>();
  const out: P.ResponseField[] = [];
  for (const d of decls) {
    if (seen.has(d.name.name)) r.error('HDC2002', d.name.range, `response field "${d.name.name}" is declared twice`, 'Rename one of them.');
    seen.add(d.name.name);
    if (d.name.name.startsWith('$')) r.error('HDC2002', d.name.range, `"${d.name.name}" is reserved`, 'Names starting with $ ($status, $headers) belong to every step result; choose another name.');
    const path = bodyPath(d.path, r);
    const field: P.ResponseField = { name: d.name.name, path: path ?? [], src: src(d.range) };
    if (d.as) {
      const conv = d.as.name;
      if (!(RESPONSE_CONVERSIONS as readonly string[]).includes(conv)) {
        const near = closest(conv, [...RESPONSE_CONVERSIONS], 1);
        r.error('HDC6003', d.as.range, `unknown conversion "${conv}"`, `Use as ${RESPONSE_CONVERSIONS.join(', ')}.`,
          near.map((n) => ({ replacement: n, range: d.as!.range })));
      } else field.as = conv as P.ResponseField['as'];
    }
    if (d.each) field.fields = lowerFields(d.fields ?? [], r, src);
    if (d.optional) field.optional = true;
    out.push(field);
  }
  return out;
}

/**
 * `data.results[*]` → ["data", "results", "*"]. A path starts at the response body (or, inside
 * `each`, at the item); `$` alone is the whole value (`$[*]` for a body that is a list).
 */
function bodyPath(e: A.Expr, r: Reporter): Array<string | number> | undefined {
  const chain: Array<string | number> = [];
  let node = e;
  while (node.kind === 'member' || node.kind === 'index') {
    chain.unshift(node.kind === 'member' ? node.property.name : node.index);
    node = node.object;
  }
  if (node.kind === 'error') return undefined;
  if (node.kind !== 'ref') {
    r.error('HDC6001', e.range, 'a response field reads a path of the body', 'Write a path such as data.count, data.results[*] or items[0].id ($ is the whole body).');
    return undefined;
  }
  if (node.name !== '$') chain.unshift(node.name);
  return chain;
}
