// The semantic stages over a parsed project: names resolved (resolve.ts), each declaration walked
// and lowered to the plan's parts (lower/), and the checks registered by node kind (checks/).
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { AnalyzeOptions } from './reporter.ts';
import type { SymbolTable } from './symbols.ts';
import { srcOf } from './lower-expr.ts';
import { resolveNames } from './resolve.ts';
import { lowerAuth, lowerApi } from './lower/auth-api.ts';
import { lowerSender } from './lower/sender.ts';
import { lowerWorkflow } from './lower/workflow.ts';
import { lowerLaunch } from './lower/launch.ts';
import { ownDiagnostics, withBase } from './launch-extends.ts';
import { lowerTest } from './lower/test.ts';
import { checkModuleBlocks, lowerModuleBlock, type ModuleDecls } from './lower/module-block.ts';
import { runChecks } from './checks/registry.ts';
import { checkLaunchesShareKeys, lowerStore } from './lower/store-decl.ts';
import { warnSharedPaths, type LoweredSender } from './checks/shared-paths.ts';
import { lowerTransform, registerTransforms } from './transforms.ts';

export interface PlanParts {
  store?: P.Store;
  auths: P.Auth[];
  apis: P.Api[];
  senders: P.Sender[];
  workflows: P.Workflow[];
  launches: P.Launch[];
  tests: P.TestCase[];
  /** Module blocks by module name, then by block name (see compiler/specs/modules.ts). */
  modules: Record<string, Record<string, unknown>>;
  /** Transforms (compiler/semantics/transforms.ts), the std library's and the project's. */
  transforms: P.Transform[];
}

export interface Analysis { parts: PlanParts; symbols: SymbolTable }

/** How far to go: `resolved` walks declarations for their names; `checked` adds the registered checks. */
export interface AnalyzeRun {
  stage: 'resolved' | 'checked';
  /** Resolve only this file's declarations in full (and the senders routing to its workflows): completion while typing. */
  focus?: string;
  /** With focus: only the declaration holding this offset. */
  focusOffset?: number;
}

export function analyze(files: A.SourceFile[], diagnostics: Diagnostic[], fileExists: (path: string) => boolean, options: AnalyzeOptions = {}, run: AnalyzeRun = { stage: 'checked' }): Analysis {
  const names = resolveNames(files, diagnostics, options);
  const { symbols, root, refTop, apiKinds, apiFormats, routedBy, moduleInputs } = names;
  const parts: PlanParts = { auths: [], apis: [], senders: [], workflows: [], launches: [], tests: [], modules: {}, transforms: [] };
  registerTransforms(files, symbols, root);
  const lowered: LoweredSender[] = [];
  const moduleDecls: ModuleDecls = new Map();

  // With a focus, other files' senders are walked only when they route to a workflow of the focus
  // file: their fields are what those workflows read.
  const focusRoutes = new Set<string>();
  const at = run.focusOffset;
  const inFocus = (file: string, d: A.Decl) => file === run.focus && (at === undefined || (d.range.start.offset <= at && at <= d.range.end.offset));
  if (run.focus) for (const f of files) for (const d of f.decls) if (d.kind === 'workflow' && inFocus(f.file, d)) focusRoutes.add(d.name.name);
  const wanted = (file: string, d: A.Decl) => !run.focus || inFocus(file, d) || (d.kind === 'sender' && d.routes.some((rt) => focusRoutes.has(rt.workflow.name)));

  // Each declaration is lowered on its own; the names inside its body are declared as it is walked.
  for (const f of files) {
    const r = root.for(f.file);
    const src = (range: A.Range) => srcOf(f.file, range);
    for (const d of f.decls) {
      if (!wanted(f.file, d)) continue;
      switch (d.kind) {
        case 'import': case 'map': break;
        case 'transform': { const t = lowerTransform(d, f.file, r, symbols); if (t) parts.transforms.push(t); break; }
        case 'store_decl': {
          const s = lowerStore(d, f.file, r, src, parts.store);
          if (s) parts.store = s;
          break;
        }
        case 'auth': { const a = lowerAuth(d, f.file, r, src); if (a) parts.auths.push(a); break; }
        case 'api': { const a = lowerApi(d, f.file, r, src, (id) => refTop(r, f.file, 'auth', id)); if (a) parts.apis.push(a); break; }
        case 'sender': {
          const sender = lowerSender(d, f.file, r, src, symbols, (id) => refTop(r, f.file, 'workflow', id));
          parts.senders.push(sender);
          lowered.push({ d, file: f.file, sender });
          break;
        }
        case 'workflow': parts.workflows.push(lowerWorkflow(d, f.file, r, src, symbols, routedBy(d.name.name), apiKinds, refTop, apiFormats, moduleInputs(d.name.name))); break;
        case 'launch': parts.launches.push(lowerLaunch(withBase(d, f.decls, r), f.file, ownDiagnostics(d, r), src, symbols)); break;
        case 'test': parts.tests.push(lowerTest(d, f.file, r, src, symbols, refTop, fileExists)); break;
        case 'module': lowerModuleBlock(d, f.file, r, src, symbols, refTop, parts.modules, moduleDecls); break;
      }
    }
  }
  if (run.stage === 'resolved') return { parts, symbols };

  runChecks(files, { root, symbols, names });
  checkModuleBlocks(parts.modules, moduleDecls, (file) => root.for(file), {
    workflows: symbols.names('workflow'),
    apis: parts.apis.map((a) => ({ name: a.name, kind: a.kind, ...(a.auth ? { auth: a.auth } : {}) })),
    auths: parts.auths.map((a) => ({ name: a.name, kind: a.kind })),
  });
  warnSharedPaths(lowered, root);
  checkLaunchesShareKeys(parts.store, parts.launches, files, (file) => root.for(file));
  return { parts, symbols };
}
