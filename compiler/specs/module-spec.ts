// What a module adds to the language: top-level declarations written as
//   KEYWORD [NAME] [from NAME] { settings… }
// each with its settings (the same SettingsSpec the core's blocks use), lowered into
// `plan.modules[module][NAME or KEYWORD]`. A module's `spec.ts` exports one ModuleSpec; the
// compiler, completion, hover, the TextMate grammar and the docs read it through this registry,
// so no module-specific code lives in the compiler or the language server.
import type { SettingsSpec } from './settings.ts';
import type { SymbolKind } from '../semantics/symbols.ts';
import type { Code } from '../codes.ts';
import { installedModuleSpecs } from '../../modules/specs.ts';

export interface ModuleDeclarationSpec {
  /** The word that starts the block (a plain name, not reserved elsewhere). */
  keyword: string;
  /** One line for completion and hover. */
  doc: string;
  /** `required`: `KEYWORD NAME { … }`; `optional`: the name may be left out; `none`: `KEYWORD { … }`. */
  name: 'required' | 'optional' | 'none';
  /** `from NAME`: the kind of top-level declaration NAME must be (checked as a reference), if allowed. */
  from?: SymbolKind;
  /** Whether `from NAME` must be written. */
  fromRequired?: boolean;
  settings: SettingsSpec;
  /**
   * The block runs workflows: each occurrence of `setting` ends with a workflow's name (`on
   * Patient run upsert_patient`), checked as a reference; such a workflow counts as run and sees
   * `inputs` as variables.
   */
  runs?: { setting: string; inputs: Record<string, { type: 'record' | 'string' | 'number' | 'any'; keys?: readonly string[]; doc: string }> };
}

/** What a module's check may consult besides its own blocks: the project's other declarations. */
export interface ModuleCheckContext {
  workflows: readonly string[];
  apis: ReadonlyArray<{ name: string; kind: string; auth?: string }>;
  auths: ReadonlyArray<{ name: string; kind: string }>;
}

/** A problem a module's own check found in its lowered blocks (its codes, from its block of codes). */
export interface ModuleProblem {
  code: Code;
  severity: 'error' | 'warning';
  summary: string;
  /** How to fix it. */
  hint: string;
  /** The block (its name, or its keyword when it takes none) the problem is in. */
  block: string;
  /** The setting to point at; the block's keyword when absent. */
  setting?: string;
  /** Point at the block's `from NAME` instead of a setting. */
  atFrom?: boolean;
  /** Which occurrence of a repeated setting (0-based; default the first). */
  occurrence?: number;
  /** Which of the setting's values to point at (0-based); the setting's key when absent. */
  value?: number;
  /** Within that value, when it is a string: the characters [start, end) of its text. */
  span?: readonly [number, number];
}

export interface ModuleSpec {
  /** The module's name: its folder under modules/ and its key under plan.modules. */
  name: string;
  declarations: ModuleDeclarationSpec[];
  /**
   * Checks beyond each setting's kind, over all of the module's lowered blocks at once (so it can
   * compare them: two listeners on one port). Pure; the runtime may run the same checks at start.
   */
  check?(blocks: Record<string, unknown>, context: ModuleCheckContext): ModuleProblem[];
}

const specs = new Map<string, ModuleSpec>();
const byKeyword = new Map<string, { module: ModuleSpec; declaration: ModuleDeclarationSpec }>();

/** Adds a module's declarations to the language (idempotent for the same spec). */
export function registerModuleSpec(spec: ModuleSpec): void {
  const prior = specs.get(spec.name);
  if (prior === spec) return;
  if (prior) unregisterModuleSpec(spec.name);
  for (const d of spec.declarations) {
    const taken = byKeyword.get(d.keyword);
    if (taken) throw new Error(`module ${spec.name}: "${d.keyword}" is already declared by module ${taken.module.name}`);
  }
  specs.set(spec.name, spec);
  for (const d of spec.declarations) byKeyword.set(d.keyword, { module: spec, declaration: d });
}

/** Removes a module's declarations (tests that register a module of their own). */
export function unregisterModuleSpec(name: string): void {
  const spec = specs.get(name);
  if (!spec) return;
  specs.delete(name);
  for (const d of spec.declarations) byKeyword.delete(d.keyword);
}

/** The declaration a block keyword starts, when a registered module owns it. */
export function moduleDeclaration(keyword: string): { module: ModuleSpec; declaration: ModuleDeclarationSpec } | undefined {
  return byKeyword.get(keyword);
}

export function moduleSpecs(): ModuleSpec[] {
  return [...specs.values()];
}

for (const spec of installedModuleSpecs) registerModuleSpec(spec);
