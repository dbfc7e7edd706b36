// The declared name under the cursor and everything that names the same thing, from the
// compiler's symbol table: the basis of definition, references, rename and hover.
import type { Declaration, Reference } from '../compiler/semantics/symbols.ts';
import type * as A from '../compiler/syntax/ast.ts';
import type { Analyzer, ProjectAnalysis } from './analysis.ts';
import { touches } from './ranges.ts';
import type { Position, TextDocumentIdentifier } from 'vscode-languageserver';
import type { ServerContext } from './server.ts';
import { uriToPath } from './workspace.ts';

const key = (d: Pick<Declaration, 'file' | 'range' | 'name'>) => `${d.file}:${d.range.start.offset}:${d.name}`;
const isBuiltin = (d: Declaration) => d.range.start.offset < 0;

export interface SymbolHit {
  /** The declaration the cursor's name declares or refers to. */
  target: Declaration;
  /** The range of the name under the cursor. */
  range: A.Range;
}

export function symbolAt(analysis: ProjectAnalysis, path: string, offset: number): SymbolHit | undefined {
  const symbols = analysis.project.symbols;
  if (!symbols) return undefined;
  // Innermost first: a reference inside a declaration's range wins over the declaration.
  for (const r of symbols.references) {
    if (r.file === path && touches(r.range, offset) && !isBuiltin(r.target)) return { target: r.target, range: r.range };
  }
  for (const d of symbols.declarations) {
    if (d.file === path && touches(d.range, offset) && !isBuiltin(d)) return { target: d, range: d.range };
  }
  return undefined;
}

/**
 * Declarations that must change together with target: a field mapped under the same name by every
 * sender routing to the same workflows (workflows read it by that name from each of them).
 */
export function relatedDeclarations(analysis: ProjectAnalysis, target: Declaration): Declaration[] {
  const symbols = analysis.project.symbols;
  if (target.kind !== 'field' || !target.container || target.container.includes('.')) return [target];
  const senders = [...analysis.files.values()].flatMap((f) => f.decls).filter((d): d is A.SenderDecl => d.kind === 'sender');
  const routesOf = (sender: string) => new Set(senders.filter((s) => s.name.name === sender).flatMap((s) => s.routes.map((r) => r.workflow.name)));
  const group = new Set([target.container]);
  const workflows = routesOf(target.container);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of senders) {
      if (group.has(s.name.name) || !s.routes.some((r) => workflows.has(r.workflow.name))) continue;
      group.add(s.name.name);
      for (const w of routesOf(s.name.name)) workflows.add(w);
      grew = true;
    }
  }
  return symbols.declarations.filter((d) => d.kind === 'field' && d.name === target.name && d.container !== undefined && group.has(d.container));
}

/** Every reference to any of targets, across the projects that read their files. */
export function referencesTo(analyzer: Analyzer, home: ProjectAnalysis, targets: Declaration[]): Reference[] {
  const keys = new Set(targets.map(key));
  const projects = new Set<ProjectAnalysis>([home]);
  for (const t of targets) for (const dir of analyzer.projectsReading(t.file)) projects.add(analyzer.project(dir));
  const seen = new Set<string>();
  const out: Reference[] = [];
  for (const p of projects) {
    for (const r of p.project.symbols?.references ?? []) {
      const k = `${r.file}:${r.range.start.offset}`;
      if (keys.has(key(r.target)) && !seen.has(k)) {
        seen.add(k);
        out.push(r);
      }
    }
  }
  return out;
}

/** The declared name under the cursor of an open document, with the project analysis it came from. */
export function symbolUnderCursor(ctx: ServerContext, params: { textDocument: TextDocumentIdentifier; position: Position }): { analysis: ProjectAnalysis; hit: SymbolHit } | undefined {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return undefined;
  const path = uriToPath(params.textDocument.uri);
  const { analysis } = ctx.analyzer.forFile(path);
  const hit = symbolAt(analysis, path, doc.offsetAt(params.position));
  return hit && { analysis, hit };
}
