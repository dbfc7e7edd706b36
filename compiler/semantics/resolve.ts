// Name resolution across a project: every top-level declaration (in any file, so order between
// files never matters), the value maps, and the facts bodies consult (API kinds and formats, which
// senders route to which workflow). Names inside bodies are declared as the bodies are walked.
import type * as A from '../syntax/ast.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { Reporter, type AnalyzeOptions } from './reporter.ts';
import { SymbolTable, type Declaration, type SymbolKind } from './symbols.ts';
import { srcOf } from './lower-expr.ts';
import * as S from './settings.ts';
import { closest } from '../dictionaries/closest.ts';
import { lowerValueMap } from './value-maps.ts';
import { moduleDeclaration, type ModuleDeclarationSpec } from '../specs/module-spec.ts';

/** Looks up a top-level name, records the reference, and reports HDC2001 with the nearest names. */
export type RefTop = (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what?: SymbolKind) => Declaration | undefined;

export interface SenderAt { d: A.SenderDecl; file: string }

export interface ResolvedNames {
  symbols: SymbolTable;
  /** The project's reporter; `root.for(file)` reports against one file. */
  root: Reporter;
  refTop: RefTop;
  apiKinds: Map<string, string>;
  /** rest APIs' response formats (json, text, xml). */
  apiFormats: Map<string, string>;
  senders: SenderAt[];
  /** The senders that route at least one message type to a workflow. */
  routedBy(workflow: string): SenderAt[];
  /** The variables module blocks that run a workflow give it (`bulk … { on Patient run W }`), when any does. */
  moduleInputs(workflow: string): ModuleInputs | undefined;
}

export type ModuleInputs = NonNullable<ModuleDeclarationSpec['runs']>['inputs'];

/** The inputs module blocks give the workflows they run, by workflow (`target` maps a written name to the workflow meant). */
export function moduleRunInputs(files: A.SourceFile[], target: (name: string) => string = (n) => n): Map<string, ModuleInputs> {
  const inputs = new Map<string, ModuleInputs>();
  for (const f of files) for (const d of f.decls) {
    if (d.kind !== 'module') continue;
    const runs = moduleDeclaration(d.keyword.name)?.declaration.runs;
    if (!runs) continue;
    for (const st of d.settings) {
      const last = st.values.at(-1);
      if (st.key.name !== runs.setting || st.values.length < 2 || last?.kind !== 'name') continue;
      const workflow = target(last.name);
      inputs.set(workflow, { ...inputs.get(workflow), ...runs.inputs });
    }
  }
  return inputs;
}

/** Declaration kinds that name a top-level symbol, with the symbol kind they declare. */
const topLevelKinds: Record<A.Decl['kind'], SymbolKind | undefined> = { import: undefined, store_decl: undefined, auth: 'auth', api: 'api', sender: 'sender', workflow: 'workflow', launch: 'launch', test: 'test', map: 'map', module: 'module', transform: 'transform' };

const nameOf = (d: A.Decl): { name: string; range: A.Range } | undefined =>
  d.kind === 'import' ? undefined : d.kind === 'test' ? { name: d.name.value, range: d.name.range } : 'name' in d && d.name ? d.name : undefined;

export function resolveNames(files: A.SourceFile[], diagnostics: Diagnostic[], options: AnalyzeOptions = {}): ResolvedNames {
  const symbols = new SymbolTable();
  const root = new Reporter('', diagnostics, options);
  for (const f of files) root.addText(f.file, f.text);

  for (const f of files) {
    const r = root.for(f.file);
    for (const d of f.decls) {
      const kind = topLevelKinds[d.kind];
      const name = nameOf(d);
      if (!kind || !name) continue;
      const prior = symbols.declareTop({ kind, name: name.name, file: f.file, range: name.range, declRange: d.range, ...(d.kind === 'module' ? { detail: d.keyword.name } : {}) });
      if (prior) {
        r.error('HDC2002', name.range, `${d.kind} "${name.name}" is declared twice`,
          `The first declaration is at ${prior.file}:${prior.range.start.line}. Rename one of them.`);
      }
    }
  }

  const refTop: RefTop = (r, file, kind, id, what = kind) => {
    const d = symbols.lookup(kind, id.name);
    if (d) { symbols.refer(id.name, file, id.range, d); return d; }
    const near = closest(id.name, symbols.names(kind), 1);
    r.error('HDC2001', id.range, `unknown ${what} "${id.name}"`,
      near.length ? `Did you mean "${near[0]}"?` : `Declared: ${symbols.names(kind).join(', ') || `no ${what} yet`}.`,
      near.map((n) => ({ replacement: n, range: id.range })));
    return undefined;
  };

  const apiKinds = new Map<string, string>();
  const apiFormats = new Map<string, string>();
  for (const f of files) for (const d of f.decls) if (d.kind === 'api') {
    apiKinds.set(d.name.name, d.apiKind.name);
    const format = d.settings.find((x) => x.key.name === 'format');
    apiFormats.set(d.name.name, (format && S.settingString([format])) ?? 'json');
  }
  const senders = files.flatMap((f) => f.decls.filter((d): d is A.SenderDecl => d.kind === 'sender').map((d) => ({ d, file: f.file })));
  // A misspelt route (`run resuts`, reported once as unknown) still routes to the workflow it was
  // meant for, so that workflow's fields are not each "unknown name" as well.
  const workflowNames = files.flatMap((f) => f.decls).flatMap((d) => (d.kind === 'workflow' ? [d.name.name] : []));
  const known = new Set(workflowNames);
  const routeTarget = (name: string) => (known.has(name) ? name : closest(name, workflowNames, 1)[0] ?? name);
  const routes = new Map<string, SenderAt[]>();
  for (const s of senders) {
    for (const name of new Set(s.d.routes.map((rt) => routeTarget(rt.workflow.name)))) {
      const list = routes.get(name);
      if (list) list.push(s);
      else routes.set(name, [s]);
    }
  }
  const routedBy = (workflow: string) => routes.get(workflow) ?? [];
  const inputs = moduleRunInputs(files, routeTarget);

  // Value maps first: senders and workflows copy them where they are used.
  for (const f of files) for (const d of f.decls) if (d.kind === 'map') lowerValueMap(d, root.for(f.file), symbols, (range) => srcOf(f.file, range));

  return { symbols, root, refTop, apiKinds, apiFormats, senders, routedBy, moduleInputs: (w) => inputs.get(w) };
}
