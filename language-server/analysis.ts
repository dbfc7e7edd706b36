// Runs the compiler over a project and keeps the result until one of the texts it read changes.
// Every feature (diagnostics, completion, navigation) reads the same compile, so the server
// never parses or resolves anything on its own.
import { existsSync } from 'node:fs';
import { compileSources, type CompileOptions, type CompileResult, type Project } from '../compiler/api.ts';
import type { SourceFile } from '../compiler/syntax/ast.ts';
import { parse } from '../compiler/syntax/parser.ts';
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
}

export class Analyzer {
  private cache = new Map<string, ProjectAnalysis>();
  /** Parses by file, reused while a file's text is unchanged: an edit re-parses only its own file. */
  private parses: NonNullable<CompileOptions['parseCache']> = new Map();

  constructor(private readonly workspace: Workspace) {}

  /** The analysis of the project holding path (compiled now if any of its texts changed). */
  forFile(path: string): { analysis: ProjectAnalysis; file: SourceFile | undefined } {
    const analysis = this.project(this.workspace.projectOf(path));
    return { analysis, file: analysis.files.get(path) };
  }

  /**
   * For completion while typing: when only this file changed since the last compile, the last
   * analysis (declarations, scopes) with this file freshly parsed — a parse of one file instead of a
   * compile of the project per keystroke. The debounced check compiles shortly after.
   */
  forFileWhileTyping(path: string): { analysis: ProjectAnalysis; file: SourceFile | undefined } {
    const dir = this.workspace.projectOf(path);
    const cached = this.cache.get(dir);
    const text = this.workspace.text(path);
    if (!cached || text === undefined || !cached.texts.has(path) || !this.current(cached, path)) return this.forFile(path);
    if (cached.texts.get(path) === text) return { analysis: cached, file: cached.files.get(path) };
    const entry = this.parses.get(path);
    const parsed = entry && entry.text === text ? entry.result : parse(text, path);
    this.parses.set(path, { text, result: parsed });
    return { analysis: cached, file: parsed.ast };
  }

  /**
   * The file's parse alone (outline, folding): no project compile, so these answer at once after an
   * edit. Shares the parse cache with the compiles.
   */
  parsed(path: string): SourceFile | undefined {
    const text = this.workspace.text(path);
    if (text === undefined) return undefined;
    const entry = this.parses.get(path);
    if (entry && entry.text === text) return entry.result.ast;
    const result = parse(text, path);
    this.parses.set(path, { text, result });
    return result.ast;
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
    for (const file of this.parses.keys()) if (file.startsWith(dir + '/')) this.parses.delete(file);
  }

  /** True when every text the analysis read is still current (except, if given, one file). */
  private current(a: ProjectAnalysis, except?: string): boolean {
    const own = this.workspace.projectFiles(a.dir);
    if (own.length !== a.own.length || own.some((p, i) => p !== a.own[i])) return false;
    for (const [path, text] of a.texts) if (path !== except && this.workspace.text(path) !== text) return false;
    return true;
  }

  private compile(dir: string): ProjectAnalysis {
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
    const result = compileSources(sources, {
      readFile: (path) => {
        const text = this.workspace.text(path);
        if (text !== undefined) texts.set(path, text);
        return text;
      },
      fileExists: (path) => this.workspace.document(path) !== undefined || existsSync(path),
      parseCache: this.parses,
      emit: false,
    });
    const files = new Map(result.project.files.map((f) => [f.file, f]));
    return { dir, result, project: result.project, files, texts, own, compileMs: performance.now() - started };
  }
}
