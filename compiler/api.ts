// The compiler's public entry points, used by the CLI, the runtime (`hdc run x.hdc`), `hdc test`
// and the language server. A compile goes through named stages, and a caller stops at the one it
// needs (`until`): Parsed → Resolved → Checked → Lowered.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { createHash } from 'node:crypto';
import { withPlanHash } from '../plan/plan-hash.ts';
import type { Plan } from '../plan/plan.types.ts';
import type { Diagnostic } from './diagnostics.ts';
import { isError, sortDiagnostics } from './diagnostics.ts';
import type { SourceFile, Range } from './syntax/ast.ts';
import { parse } from './syntax/parser.ts';
import { version } from './version.ts';
import { analyze } from './semantics/analyze.ts';
import { stdImport, stdLibraries } from './std-library.ts';
import { SymbolTable, type Declaration } from './semantics/symbols.ts';
import type { DeclCache } from './semantics/decl-cache.ts';

export const PLAN_VERSION = 1;
export const COMPILER = `hdc ${version}`;

/**
 * The stages of a compile, in order. What is safe to read after each:
 * - `parsed`: every file read (imports followed) and parsed with recovery: `project.files` (ASTs,
 *   comments, exact ranges) and the syntax diagnostics (HDC1xxx, HDC2004). `project.symbols` is
 *   empty. Enough for the outline, folding and formatting.
 * - `resolved`: names declared and resolved: `project.symbols` holds every declaration (top-level,
 *   sender fields, steps and variables with where they are visible, their types and keys) and every
 *   reference. Diagnostics are those found while resolving, not all of them. With `focus`, only that
 *   file (or, with `focusOffset`, its declaration there) and the senders routing to its workflows
 *   are resolved in full, the rest to their top-level names: completion while typing.
 * - `checked`: every check has run: the diagnostics are complete. No plan.
 * - `lowered`: the plan, when there are no errors.
 */
export type Stage = 'parsed' | 'resolved' | 'checked' | 'lowered';

export interface Project { files: SourceFile[]; symbols: SymbolTable }
export interface CompileResult { plan?: Plan; diagnostics: Diagnostic[]; project: Project; stage: Stage }
export interface CompileOptions {
  /** The last stage to run (default `lowered`). */
  until?: Stage;
  /** `resolved` only: resolve this file's declarations in full, others' only as far as it reads them. */
  focus?: string;
  /** With focus: only the declaration of the focus file that holds this offset. */
  focusOffset?: number;
  /** Reads an imported file; default: the file system. Returning undefined means "not found". */
  readFile?: (path: string) => string | undefined;
  fileExists?: (path: string) => boolean;
  /** false: the same as `until: 'checked'` (kept for callers written before stages). */
  emit?: boolean;
  /** Parse results by file, reused while the text is unchanged (the language server keeps one). */
  parseCache?: Map<string, { text: string; result: ReturnType<typeof parse> }>;
  /** Senders and workflows whose inputs are unchanged are replayed from here (the language server keeps one). */
  declCache?: DeclCache;
  /** Literal secrets become a warning and an env() marker in the plan (local experiments only). */
  allowLiteralSecrets?: boolean;
}

const toPosix = (p: string) => p.split(sep).join('/');
/** Paths in plans and diagnostics are relative to the working directory, with forward slashes. */
export const displayPath = (p: string): string => toPosix(relative(process.cwd(), resolve(p))) || '.';

const fsRead = (p: string): string | undefined => {
  try { return readFileSync(p, 'utf8'); } catch { return undefined; }
};

/** Compiles in-memory sources (file path → text) up to `opts.until`; imports not in the map are read with opts.readFile. */
export function compile(sources: Map<string, string>, opts: CompileOptions = {}): CompileResult {
  const until: Stage = opts.until ?? (opts.emit === false ? 'checked' : 'lowered');
  const readFile = opts.readFile ?? fsRead;
  const fileExists = opts.fileExists ?? ((p: string) => existsSync(p));
  const diagnostics: Diagnostic[] = [];
  const files: SourceFile[] = [];
  const seen = new Set<string>();
  const queue = [...sources.keys()].map((f) => toPosix(f));
  const texts = new Map([...sources].map(([k, v]) => [toPosix(k), v]));
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = texts.get(file)!;
    let parsed;
    try {
      const cached = opts.parseCache?.get(file);
      parsed = cached && cached.text === text ? cached.result : parse(text, file);
      opts.parseCache?.set(file, { text, result: parsed });
    } catch (e) {
      diagnostics.push(internalError(file, e));
      continue;
    }
    files.push(parsed.ast);
    diagnostics.push(...parsed.diagnostics);
    for (const d of parsed.ast.decls) {
      if (d.kind !== 'import') continue;
      const std = stdImport(d.path.value);
      if (std) {
        for (const target of std) {
          if (!texts.has(target)) { const t = readFile(target); if (t !== undefined) texts.set(target, t); }
          if (texts.has(target)) queue.push(target);
        }
        if (std.length) continue;
        diagnostics.push({
          code: 'HDC8001', severity: 'error', file, range: d.path.range,
          summary: `no library ${d.path.raw} ships with hdc`, detail: `The libraries: ${stdLibraries().map((l) => `"std/${l}"`).join(', ')}.`,
        });
        continue;
      }
      const target = toPosix(join(file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.', d.path.value));
      if (seen.has(target) || texts.has(target)) { queue.push(target); continue; }
      const t = readFile(target);
      if (t === undefined) {
        diagnostics.push({
          code: 'HDC2004', severity: 'error', file, range: d.path.range,
          summary: `cannot read imported file ${d.path.raw}`, detail: `Looked for ${target}. Paths are relative to the importing file.`,
        });
        continue;
      }
      texts.set(target, t);
      queue.push(target);
    }
  }
  if (until === 'parsed') return { diagnostics: sortDiagnostics(diagnostics), project: { files, symbols: new SymbolTable() }, stage: until };
  let analysis;
  try {
    analysis = analyze(files, diagnostics, fileExists, { allowLiteralSecrets: opts.allowLiteralSecrets }, { stage: until === 'resolved' ? 'resolved' : 'checked', focus: opts.focus, focusOffset: opts.focusOffset, cache: opts.declCache });
  } catch (e) {
    diagnostics.push(internalError(files[0]?.file ?? '', e));
    return { diagnostics: sortDiagnostics(diagnostics), project: { files, symbols: new SymbolTable() }, stage: until };
  }
  const project: Project = { files, symbols: analysis.symbols };
  sortDiagnostics(diagnostics);
  if (diagnostics.some(isError) || until !== 'lowered') return { diagnostics, project, stage: until };
  const sourcesList = [...files].sort((a, b) => a.file.localeCompare(b.file)).map((f) => ({ file: f.file, sha256: sha256(f.text) }));
  const body = {
    planVersion: PLAN_VERSION as 1,
    compiler: COMPILER,
    sources: sourcesList,
    ...(analysis.parts.store ? { store: analysis.parts.store } : {}),
    auths: analysis.parts.auths,
    apis: analysis.parts.apis,
    senders: analysis.parts.senders,
    workflows: analysis.parts.workflows,
    launches: analysis.parts.launches,
    tests: analysis.parts.tests,
    ...(analysis.parts.transforms.length ? { transforms: analysis.parts.transforms } : {}),
    ...(Object.keys(analysis.parts.modules).length ? { modules: analysis.parts.modules } : {}),
  };
  const plan: Plan = withPlanHash(body);
  return { plan, diagnostics, project, stage: until };
}

/** `compile` to the end (or to `checked` with `emit: false`). */
export function compileSources(sources: Map<string, string>, opts: CompileOptions = {}): CompileResult {
  return compile(sources, opts);
}

/** Compiles .hdc files and folders (searched recursively for *.hdc, skipping node_modules). */
export async function compileFiles(paths: string[], opts: CompileOptions = {}): Promise<CompileResult> {
  const sources = new Map<string, string>();
  const missing: Diagnostic[] = [];
  for (const p of findHdcFiles(paths.length ? paths : ['.'], missing)) sources.set(displayPath(p), readFileSync(p, 'utf8'));
  const result = compile(sources, opts);
  result.diagnostics.unshift(...missing);
  if (missing.length) delete result.plan;
  return result;
}

export function findHdcFiles(paths: string[], problems: Diagnostic[] = []): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    let st;
    try { st = statSync(p); } catch {
      const none = { line: 1, col: 1, offset: 0 };
      problems.push({ code: 'HDC2004', severity: 'error', file: displayPath(p), range: { start: none, end: none }, summary: `no such file or folder: ${displayPath(p)}`, detail: 'Check the path.' });
      return;
    }
    if (st.isDirectory()) walkDir(p);
    else out.push(p);
  };
  const walkDir = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      if (e.isDirectory()) walkDir(join(dir, e.name));
      else if (e.name.endsWith('.hdc')) out.push(join(dir, e.name));
    }
  };
  for (const p of paths) walk(p);
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function internalError(file: string, e: unknown): Diagnostic {
  const none = { line: 1, col: 1, offset: 0 };
  return {
    code: 'HDC1000', severity: 'error', file, range: { start: none, end: none },
    summary: 'the compiler could not process this file', detail: `Internal error: ${(e as Error)?.message ?? e}. Please report it with the file.`,
  };
}

// ---- editor queries ------------------------------------------------------------------------------
export interface ScopeInfo {
  block?: { kind: Exclude<SourceFile['decls'][number]['kind'], 'import'>; name: string; range: Range };
  /** The sender's declared HL7 version (inside a sender), or of the senders routing to a workflow. */
  hl7Version?: string;
  variables: Declaration[];
}

/** What is visible at `offset` in `file`: the enclosing block and the variables usable there. */
export function scopeAt(project: Project, file: string, offset: number): ScopeInfo {
  const sf = project.files.find((f) => f.file === file);
  const info: ScopeInfo = { variables: [] };
  if (!sf) return info;
  const decl = sf.decls.find((d) => d.range.start.offset <= offset && offset <= d.range.end.offset);
  if (!decl || decl.kind === 'import' || decl.kind === 'store_decl') return info;
  const name = decl.kind === 'test' ? decl.name.value : decl.kind === 'module' ? (decl.name ?? decl.keyword).name : decl.name.name;
  info.block = { kind: decl.kind, name, range: decl.range };
  const symbols = project.symbols;
  if (!symbols) return info;
  const versionOf = (sender: string) => {
    const s = project.files.flatMap((f) => f.decls).find((d) => d.kind === 'sender' && d.name.name === sender);
    const v = s && s.kind === 'sender' ? s.settings.find((x) => x.key.name === 'version')?.values[0] : undefined;
    return v?.kind === 'string' ? v.value : undefined;
  };
  if (decl.kind === 'sender') info.hl7Version = versionOf(name);
  if (decl.kind === 'workflow') {
    const routing = project.files.flatMap((f) => f.decls).filter((d) => d.kind === 'sender' && d.routes.some((r) => r.workflow.name === name));
    const senders = routing.map((d) => (d as { name: { name: string } }).name.name);
    info.hl7Version = senders.map(versionOf).find(Boolean);
    const fields = new Map<string, Declaration>();
    for (const d of symbols.declarations) if (d.kind === 'field' && d.container && senders.includes(d.container)) fields.set(d.name, d);
    info.variables.push(...fields.values());
  }
  for (const d of symbols.declarations) {
    if ((d.kind === 'step' || d.kind === 'variable') && d.container === name && d.file === file && d.visible && d.visible.from <= offset && offset <= d.visible.to) {
      info.variables.push(d);
    }
  }
  return info;
}
