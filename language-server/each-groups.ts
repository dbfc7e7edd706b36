// The `each SEG { … }` group a loop variable walks: `for each r in results` over a sender field
// `results = each OBX { code = OBX-3.1, … }` (of the senders routing to the workflow), so hovers
// can say which segment and path `r` and `r.code` stand for.
import type * as A from '../compiler/syntax/ast.ts';
import { walk } from '../compiler/syntax/visit.ts';
import type { Declaration } from '../compiler/semantics/symbols.ts';
import type { ProjectAnalysis } from './analysis.ts';

export interface EachGroup { sender: string; field: A.FieldDecl }

export function eachGroupOf(analysis: ProjectAnalysis, loopVar: Declaration): EachGroup | undefined {
  const file = analysis.files.get(loopVar.file);
  if (!file) return undefined;
  let over: string | undefined;
  walk(file, (n) => {
    if (n.kind === 'for' && n.variable.range.start.offset === loopVar.range.start.offset && n.over.kind === 'ref') over = n.over.name;
  });
  if (!over) return undefined;
  for (const f of analysis.files.values()) {
    for (const d of f.decls) {
      if (d.kind !== 'sender' || !d.routes.some((r) => r.workflow.name === loopVar.container)) continue;
      const field = d.fields.find((x) => x.name.name === over && x.each);
      if (field) return { sender: d.name.name, field };
    }
  }
  return undefined;
}

/** `code (OBX-3.1)`: a group's field with its path. */
export const groupFieldText = (f: A.FieldDecl): string => `${f.name.name}${f.path ? ` (${f.path.path.text})` : ''}`;
