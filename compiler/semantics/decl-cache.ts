// Incremental analysis: what lowering one sender or workflow produced (its diagnostics, the names
// it declared and referred to, its plan part) and what the registered checks found in it,
// replayed instead of computed again while nothing it reads has changed. Senders and workflows are
// nearly all of a project's analysis; the rest (names, transforms, tests, launches) runs every time.
//
// A declaration is reused only when it is the very same parsed node (its file's parse was reused,
// so its text and positions are unchanged), the project's outline is the same (every top-level
// name, and the full text of the small declarations bodies read: APIs, auths, maps, transforms,
// stores, modules, imports) and, for a workflow, the same senders route to it, themselves reused.
import type * as A from '../syntax/ast.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Declaration, Reference, SymbolTable } from './symbols.ts';

interface Entry<T> {
  outline: string;
  deps: readonly A.Decl[];
  diagnostics: Diagnostic[];
  declarations: Declaration[];
  references: Reference[];
  part: T;
  /** What the registered checks reported on the declaration (runChecks), once they ran. */
  checks?: Diagnostic[];
}

export class DeclCache {
  private entries = new WeakMap<A.Decl, Entry<unknown>>();
  /** Declarations reused and lowered by the last analysis (for tests and the benchmark). */
  last = { reused: 0, lowered: 0 };
  /** Declarations replayed by this analysis: their checks' findings are replayed too. */
  private replayed = new Set<A.Decl>();

  /** The outline of a project: what every cached declaration may read besides its own node. */
  static outline(files: readonly A.SourceFile[]): string {
    const out: string[] = [];
    for (const f of files) {
      out.push(`\u0001${f.file}`);
      // Senders, workflows, tests and launches by name (the cache tracks the first two itself,
      // nothing cached reads the others' bodies); every other declaration in full.
      for (const d of f.decls) {
        if (d.kind === 'sender' || d.kind === 'workflow' || d.kind === 'launch') out.push(`${d.kind}:${d.name.name}`);
        else if (d.kind === 'test') out.push(`test:${d.name.value}`);
        else out.push(f.text.slice(d.range.start.offset, d.range.end.offset));
      }
    }
    return out.join('\u0000');
  }

  /**
   * The declaration's lowering, replayed when its node, the outline and its dependencies are the
   * same as last time; otherwise lowered now and recorded.
   */
  lower<T>(d: A.Decl, outline: string, deps: readonly A.Decl[], symbols: SymbolTable, diagnostics: Diagnostic[], run: () => T): T {
    const e = this.entries.get(d) as Entry<T> | undefined;
    if (e && e.outline === outline && sameNodes(e.deps, deps)) {
      this.last.reused++;
      this.replayed.add(d);
      diagnostics.push(...e.diagnostics);
      for (const x of e.declarations) symbols.declare(x);
      // References to top-level names point at this analysis's declarations (navigation compares them).
      for (const r of e.references) symbols.references.push(r.target.container === undefined ? { ...r, target: symbols.lookup(r.target.kind, r.target.name) ?? r.target } : r);
      return e.part;
    }
    this.last.lowered++;
    const marks = [diagnostics.length, symbols.declarations.length, symbols.references.length] as const;
    const part = run();
    this.entries.set(d, {
      outline, deps: [...deps], part,
      diagnostics: diagnostics.slice(marks[0]),
      declarations: symbols.declarations.slice(marks[1]),
      references: symbols.references.slice(marks[2]),
    });
    return part;
  }

  /** The registered checks of a declaration: replayed with its lowering, else run and recorded. */
  check(d: A.Decl, diagnostics: Diagnostic[], run: () => void): void {
    const e = this.entries.get(d);
    if (e?.checks && this.replayed.has(d)) {
      diagnostics.push(...e.checks);
      return;
    }
    const mark = diagnostics.length;
    run();
    if (e) e.checks = diagnostics.slice(mark);
  }

  startRun(): void {
    this.last = { reused: 0, lowered: 0 };
    this.replayed.clear();
  }
}

const sameNodes = (a: readonly A.Decl[], b: readonly A.Decl[]) => a.length === b.length && a.every((x, i) => x === b[i]);
