// Runs the compiler over a project and keeps the result until one of the texts it read changes.
// Each feature asks for the stage it needs: the outline and folding a file Parsed, completion
// while typing the project Resolved around the edited file, diagnostics and navigation Checked.
// The server never parses or resolves anything on its own.
import { existsSync } from 'node:fs';
import { compile, type CompileOptions, type CompileResult, type Project, type Stage } from '../compiler/api.ts';
import type { SourceFile } from '../compiler/syntax/ast.ts';
import { parse } from '../compiler/syntax/parser.ts';
import { DeclCache } from '../compiler/semantics/decl-cache.ts';
import { localEdit, offsetBefore, shiftedView } from './local-edit.ts';
import type { Workspace } from './workspace.ts';

export interface ProjectAnalysis {
  /** The project's folder. */
  dir: string;
  result: CompileResult;
  project: Project;
  /** Parsed files by path, imports included. */
  files: Map<string, SourceFile>;
  /** The exact texts compiled, by path: the cache is valid while they are current. */
  texts: Map<string, string>;
  /** The project's own files (its folder), as opposed to imports from elsewhere. */
  own: string[];
  compileMs: number;
  /** A Resolved compile around one file (and one of its declarations): what it covers. */
  focus?: { path: string; offset?: number; range?: { from: number; to: number } };
}

export class Analyzer {
  private cache = new Map<string, ProjectAnalysis>();
  /** The last Resolved compile per project (completion while typing), valid while its texts are. */
  private resolvedCache = new Map<string, ProjectAnalysis>();
  /** Parses by file, reused while a file's text is unchanged: an edit re-parses only its own file. */
  private parses: NonNullable<CompileOptions['parseCache']> = new Map();
  /** Lowered senders and workflows, reused while their inputs are: a check re-analyses what an edit touched. */
  private decls = new DeclCache();

  constructor(private readonly workspace: Workspace) {}

  /** The analysis of the project holding path (compiled now if any of its texts changed). */
  forFile(path: string): { analysis: ProjectAnalysis; file: SourceFile | undefined } {
    const analysis = this.project(this.workspace.projectOf(path));
    return { analysis, file: analysis.files.get(path) };
  }

  /** The file as it is now, Parsed (the outline and folding need no names). */
  parsed(path: string): SourceFile | undefined {
    const text = this.workspace.text(path);
    if (text === undefined) return undefined;
    const entry = this.parses.get(path);
    if (entry && entry.text === text) return entry.result.ast;
    const result = parse(text, path);
    this.parses.set(path, { text, result });
    return result.ast;
  }

  /**
   * For completion while typing: the file's last parse, seen through the edit, while the text changed
   * only locally (local-edit.ts), else parsed now.
   */
  parsedNear(path: string, offset: number): SourceFile | undefined {
    const text = this.workspace.text(path);
    const entry = this.parses.get(path);
    if (text === undefined || !entry || entry.text === text) return this.parsed(path);
    const edit = localEdit(entry.result.ast, entry.text, text, offset);
    return edit ? shiftedView(entry.result.ast, edit) : this.parsed(path);
  }

  /**
   * For completion while typing: the last analysis of the project while this file changed only
   * locally (local-edit.ts) and the analysis covers the cursor's declaration, with `at` the cursor's
   * offset in the text it analysed; else resolvedFor.
   */
  resolvedNear(path: string, offset: number): { analysis: ProjectAnalysis; at: number } {
    const text = this.workspace.text(path);
    const dir = this.workspace.projectOf(path);
    for (const a of [this.cache.get(dir), this.resolvedCache.get(dir)]) {
      const before = a?.texts.get(path);
      const file = a?.files.get(path);
      if (!a || before === undefined || !file || text === undefined || !this.currentExcept(a, path)) continue;
      if (before === text) return { analysis: a, at: offset };
      const edit = localEdit(file, before, text, offset);
      if (!edit) continue;
      const at = offsetBefore(edit, offset);
      const covered = !a.focus || (a.focus.path === path && (a.focus.range === undefined ? a.focus.offset === undefined : a.focus.range.from <= at && at <= a.focus.range.to));
      if (covered) return { analysis: a, at };
    }
    return { analysis: this.resolvedFor(path, offset).analysis, at: offset };
  }

  /**
   * For completion while typing: the project Resolved with this file's current text — its
   * declarations and scopes resolved in full, the other files only as far as it reads them. When the
   * last Checked compile is current it serves instead. The debounced check compiles shortly after.
   */
  resolvedFor(path: string, offset?: number): { analysis: ProjectAnalysis; file: SourceFile | undefined } {
    const dir = this.workspace.projectOf(path);
    const checked = this.cache.get(dir);
    if (checked && this.current(checked)) return { analysis: checked, file: checked.files.get(path) };
    const resolved = this.resolvedCache.get(dir);
    const same = resolved?.focus && resolved.focus.path === path && (offset === undefined ? resolved.focus.offset === undefined : resolved.focus.range !== undefined && resolved.focus.range.from <= offset && offset <= resolved.focus.range.to);
    if (resolved && same && this.current(resolved)) return { analysis: resolved, file: resolved.files.get(path) };
    const fresh = this.compile(dir, 'resolved', path, offset);
    this.resolvedCache.set(dir, fresh);
    return { analysis: fresh, file: fresh.files.get(path) };
  }

  /** True when the project has no analysis or one that no longer matches the texts (a refresh is due). */
  isStale(dir: string): boolean {
    const cached = this.cache.get(dir);
    return cached === undefined || !this.current(cached);
  }

  project(dir: string): ProjectAnalysis {
    const cached = this.cache.get(dir);
    if (cached && this.current(cached)) return cached;
    const fresh = this.compile(dir);
    this.cache.set(dir, fresh);
    return fresh;
  }

  /** Projects whose last compile read path (for checks after an edit to an imported file). */
  projectsReading(path: string): string[] {
    const out = new Set<string>([this.workspace.projectOf(path)]);
    for (const a of this.cache.values()) if (a.texts.has(path)) out.add(a.dir);
    return [...out];
  }

  cachedProjects(): string[] {
    return [...this.cache.keys()];
  }

  forget(dir: string): void {
    this.cache.delete(dir);
    this.resolvedCache.delete(dir);
    for (const file of this.parses.keys()) if (file.startsWith(dir + '/')) this.parses.delete(file);
  }

  /** True when every text the analysis read is still current. */
  private current(a: ProjectAnalysis): boolean {
    return this.currentExcept(a);
  }

  /** True when every text the analysis read, but the one at `except`, is still current. */
  private currentExcept(a: ProjectAnalysis, except?: string): boolean {
    const own = this.workspace.projectFiles(a.dir);
    if (own.length !== a.own.length || own.some((p, i) => p !== a.own[i])) return false;
    for (const [path, text] of a.texts) if (path !== except && this.workspace.text(path) !== text) return false;
    return true;
  }

  private compile(dir: string, until: Stage = 'checked', focus?: string, focusOffset?: number): ProjectAnalysis {
    const started = performance.now();
    const own = this.workspace.projectFiles(dir);
    const texts = new Map<string, string>();
    const sources = new Map<string, string>();
    for (const path of own) {
      const text = this.workspace.text(path);
      if (text === undefined) continue;
      sources.set(path, text);
      texts.set(path, text);
    }
    const result = compile(sources, {
      until,
      focus,
      focusOffset,
      readFile: (path) => {
        const text = this.workspace.text(path);
        if (text !== undefined) texts.set(path, text);
        return text;
      },
      fileExists: (path) => this.workspace.document(path) !== undefined || existsSync(path),
      parseCache: this.parses,
      declCache: this.decls,
    });
    const files = new Map(result.project.files.map((f) => [f.file, f]));
    const analysis: ProjectAnalysis = { dir, result, project: result.project, files, texts, own, compileMs: performance.now() - started };
    if (focus) {
      const decl = focusOffset === undefined ? undefined : files.get(focus)?.decls.find((d) => d.range.start.offset <= focusOffset && focusOffset <= d.range.end.offset);
      analysis.focus = { path: focus, offset: focusOffset, range: decl && { from: decl.range.start.offset, to: decl.range.end.offset } };
    }
    return analysis;
  }
}
