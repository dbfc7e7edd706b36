// Declarations and references across a project: the basis for "unknown name" checks and for the
// language server's definition, references and rename.
import type { Range } from '../syntax/ast.ts';
import type { ValueMap, ValueType } from '../../plan/plan.types.ts';

/** `module`: a named declaration a module adds (its keyword in `detail`). */
export type SymbolKind = 'auth' | 'api' | 'sender' | 'workflow' | 'launch' | 'step' | 'field' | 'variable' | 'test' | 'map' | 'module' | 'transform';

export interface Declaration {
  kind: SymbolKind;
  name: string;
  file: string;
  /** The name's range (what rename edits). */
  range: Range;
  /** The whole declaration (what an outline shows). */
  declRange: Range;
  /** Enclosing workflow/sender/launch for steps, fields and variables. */
  container?: string;
  type?: ValueType;
  /** FHIR resource type a step returns (a Bundle of it for searches). */
  resourceType?: string;
  search?: boolean;
  detail?: string;
  /** Variables: the offsets between which the name can be used. */
  visible?: { from: number; to: number };
  /** Records (each groups, loop variables over them): their field names. */
  keys?: string[];
  /** Fields mapped with `-> NAME`: the value map applied. */
  valueMap?: string;
}

export interface TransformSymbol {
  decl: Declaration;
  file: string;
  /** The declaration's AST (transforms.ts reads it for extends and calls). */
  ast: import('../syntax/ast.ts').TransformDecl;
}

export interface Reference { name: string; file: string; range: Range; target: Declaration }

export class SymbolTable {
  declarations: Declaration[] = [];
  references: Reference[] = [];
  private top = new Map<string, Declaration>();

  /** Adds a top-level declaration; returns the earlier one when the name is taken. */
  declareTop(d: Declaration): Declaration | undefined {
    const key = `${d.kind}:${d.name}`;
    const prior = this.top.get(key);
    this.declarations.push(d);
    if (!prior) this.top.set(key, d);
    return prior;
  }
  /** Value maps by name, lowered once and copied into the plan where they are used. */
  valueMaps = new Map<string, { map: ValueMap; decl: Declaration; line: number }>();
  /** Transforms by name (compiler/semantics/transforms.ts), so calls resolve in any order. */
  transforms = new Map<string, TransformSymbol>();
  private fields = new Map<string, Declaration[]>();
  declare(d: Declaration): void {
    this.declarations.push(d);
    if (d.kind === 'field' && d.container) {
      const list = this.fields.get(d.container);
      if (list) list.push(d);
      else this.fields.set(d.container, [d]);
    }
  }
  /** The top-level fields a sender maps. */
  fieldsOf(sender: string): Declaration[] { return this.fields.get(sender) ?? []; }
  lookup(kind: SymbolKind, name: string): Declaration | undefined { return this.top.get(`${kind}:${name}`); }
  names(kind: SymbolKind): string[] {
    return this.declarations.filter((d) => d.kind === kind && d.container === undefined).map((d) => d.name);
  }
  refer(name: string, file: string, range: Range, target: Declaration): void {
    this.references.push({ name, file, range, target });
  }
}
