// Value maps: `map gender { "F": "female", "M": "male", else: "unknown" }`, used as gender(sex) in
// expressions or `sex = PID-8 -> gender` in a sender's fields. Inputs must be unique; a map that
// names its code system (`map gender to "http://hl7.org/fhir/administrative-gender"`) has its
// outputs checked against the codes the FHIR definitions list for it.
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import type { SymbolTable } from './symbols.ts';
import { closest } from '../dictionaries/closest.ts';
import { codeSystemCodes, knownCodeSystems } from '../dictionaries/fhir-bindings.ts';
import { functions } from './functions.ts';

/** Lowers a map declaration and records it in the symbol table (the declaration is already declared). */
export function lowerValueMap(d: A.MapDecl, r: Reporter, symbols: SymbolTable, src: (range: A.Range) => string): void {
  if (Object.hasOwn(functions, d.name.name)) {
    r.error('HDC2002', d.name.range, `"${d.name.name}" is a built-in function`, 'Name the map after what it converts: map gender_code { … }.');
  }
  const seen = new Map<string, A.MapEntry>();
  const table: [string, string][] = [];
  for (const e of d.entries) {
    const prior = seen.get(e.key.value);
    if (prior) {
      const same = prior.value.value === e.value.value;
      r.error('HDC2002', e.key.range, `${e.key.raw} is mapped twice in map ${d.name.name}`,
        `It is first mapped at line ${prior.range.start.line}${same ? ' to the same value' : ` to ${prior.value.raw}`}: keep one.`);
      continue;
    }
    seen.set(e.key.value, e);
    table.push([e.key.value, e.value.value]);
  }
  if (!d.entries.length) r.warning('HDC2044', d.name.range, `map ${d.name.name} maps nothing`, 'Add entries: "F": "female".');
  if (d.system) checkSystem(d, r);
  const map: P.ValueMap = { name: d.name.name, table, src: src(d.range) };
  if (d.else) map.else = d.else.value;
  if (d.system) map.system = d.system.value;
  const decl = symbols.lookup('map', d.name.name);
  if (decl && !symbols.valueMaps.has(d.name.name)) symbols.valueMaps.set(d.name.name, { map, decl, line: d.range.start.line });
}

function checkSystem(d: A.MapDecl, r: Reporter): void {
  const system = d.system!;
  const codes = codeSystemCodes(system.value);
  if (!codes) {
    const near = closest(system.value, knownCodeSystems(), 1);
    r.warning('HDC4014', system.range, `the codes of ${system.raw} are not known to the compiler`,
      near.length ? `Did you mean "${near[0]}"? Outputs are not checked.` : 'Outputs are not checked: the bundled FHIR R4 definitions list the code systems of required bindings only.',
      near.map((n) => ({ replacement: JSON.stringify(n), range: system.range })));
    return;
  }
  const outputs = [...d.entries.map((e) => e.value), ...(d.else ? [d.else] : [])];
  for (const out of outputs) {
    if (codes.includes(out.value)) continue;
    const near = closest(out.value, codes, 1);
    r.error('HDC4014', out.range, `${out.raw} is not a code of ${system.value}`,
      `Its codes: ${codes.length > 15 ? codes.slice(0, 15).join(', ') + ', …' : codes.join(', ')}.${near.length ? ` Did you mean "${near[0]}"?` : ''}`,
      near.map((n) => ({ replacement: JSON.stringify(n), range: out.range })));
  }
}

/** The outputs a map can give, for binding checks where it is used. */
export function mapOutputs(symbols: SymbolTable, name: string): { values: string[]; line: number } | undefined {
  const m = symbols.valueMaps.get(name);
  if (!m) return undefined;
  return { values: [...new Set([...m.map.table.map(([, v]) => v), ...(m.map.else !== undefined ? [m.map.else] : [])])], line: m.line };
}

/** `-> NAME` on a field, or NAME(x): the map, or an "unknown map" error with the closest name. */
export function resolveValueMap(id: A.Ident, r: Reporter, symbols: SymbolTable, file: string): P.ValueMap | undefined {
  const m = symbols.valueMaps.get(id.name);
  if (m) {
    symbols.refer(id.name, file, id.range, m.decl);
    return m.map;
  }
  const names = [...symbols.valueMaps.keys()];
  const near = closest(id.name, names, 1);
  r.error('HDC2001', id.range, `unknown map "${id.name}"`,
    near.length ? `Did you mean "${near[0]}"?` : names.length ? `Declared maps: ${names.join(', ')}.` : `Declare it: map ${id.name} { "F": "female", else: "unknown" }`,
    near.map((n) => ({ replacement: n, range: id.range })));
  return undefined;
}
