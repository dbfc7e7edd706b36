// Lowering of a module's declaration (`KEYWORD [NAME] [from NAME] { settings }`) into
// plan.modules[module][NAME or KEYWORD]: its settings checked against the module's spec and
// written as plain JSON (strings, numbers, milliseconds for durations, lists for several values,
// objects for nested blocks; env() and file() as the plan's secret markers).
import type * as A from '../../syntax/ast.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable } from '../symbols.ts';
import type { RefTop } from '../resolve.ts';
import * as S from '../settings.ts';
import { moduleDeclaration, moduleSpecs, type ModuleCheckContext, type ModuleProblem } from '../../specs/module-spec.ts';

export function lowerModuleBlock(
  d: A.ModuleDecl, file: string, r: Reporter, src: (r: A.Range) => string, _symbols: SymbolTable, refTop: RefTop,
  modules: Record<string, Record<string, unknown>>, declared?: ModuleDecls,
): void {
  const found = moduleDeclaration(d.keyword.name);
  if (!found) return;
  const { module, declaration } = found;
  const what = `${d.keyword.name}${d.name ? ` ${d.name.name}` : ''}`;
  const s = S.readSettings(d.settings, declaration.settings, what, r, d.name?.range ?? d.keyword.range);
  if (declaration.from && d.from) refTop(r, file, declaration.from, d.from);
  if (declaration.runs) {
    for (const st of s.get(declaration.runs.setting) ?? []) {
      const last = st.values.at(-1);
      if (last?.kind === 'name' && st.values.length > 1) refTop(r, file, 'workflow', { kind: 'ident', name: last.name, range: last.range });
    }
  }
  if (declaration.fromRequired && !d.from) {
    r.error('HDC2006', d.name?.range ?? d.keyword.range, `${what} needs "from ${declaration.from!.toUpperCase()}"`, `Write: ${what} from NAME { … }`);
  }
  const out: Record<string, unknown> = { kind: d.keyword.name, src: src(d.range) };
  if (d.name) out.name = d.name.name;
  if (d.from) out.from = d.from.name;
  out.settings = settingsObject([...s.values()].flat(), file, src);
  const byName = (modules[module.name] ??= {});
  byName[d.name?.name ?? d.keyword.name] = out;
  declared?.set(`${module.name}\u0000${d.name?.name ?? d.keyword.name}`, { d, file });
}

export type ModuleDecls = Map<string, { d: A.ModuleDecl; file: string }>;

/**
 * Each module's own check over its lowered blocks, reported at the setting it names (or the
 * block's keyword).
 */
export function checkModuleBlocks(
  modules: Record<string, Record<string, unknown>>, declared: ModuleDecls, reporterFor: (file: string) => Reporter, context: ModuleCheckContext,
): void {
  for (const spec of moduleSpecs()) {
    const blocks = modules[spec.name];
    if (!spec.check || !blocks) continue;
    for (const p of spec.check(blocks, context)) {
      const at = declared.get(`${spec.name}\u0000${p.block}`);
      if (!at) continue;
      const range = problemRange(at.d, p);
      const r = reporterFor(at.file);
      if (p.severity === 'error') r.error(p.code, range, p.summary, p.hint);
      else r.warning(p.code, range, p.summary, p.hint);
    }
  }
}

/** The exact range a problem names: a value of one occurrence of a setting, part of a string, or the key. */
function problemRange(d: A.ModuleDecl, p: ModuleProblem): A.Range {
  if (p.atFrom && d.from) return d.from.range;
  const setting = p.setting ? d.settings.filter((st) => st.key.name === p.setting)[p.occurrence ?? 0] : undefined;
  if (!setting) return d.keyword.range;
  const value = p.value !== undefined ? setting.values[p.value] : undefined;
  if (!value) return setting.key.range;
  if (!p.span || value.kind !== 'string') return value.range;
  // The string's text starts after its quote; a span beyond an escape is only approximate, so it is clamped.
  const body = value.range.end.offset - value.range.start.offset - 2;
  const [from, to] = [Math.min(p.span[0], body), Math.min(p.span[1], body)];
  const at = (n: number): A.Position => ({ line: value.range.start.line, col: value.range.start.col + 1 + n, offset: value.range.start.offset + 1 + n });
  return value.range.start.line === value.range.end.line ? { start: at(from), end: at(Math.max(to, from)) } : value.range;
}

function settingsObject(settings: A.Setting[], file: string, src: (r: A.Range) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  /** Keys written more than once (`role viewer { … }` and `role operator { … }`): a list of their values, in order. */
  const repeated = new Set<string>();
  for (const st of settings) {
    const values = st.values.map((a) => atomValue(a, file, src));
    let v: unknown = values.length === 0 ? true : values.length === 1 ? values[0] : values;
    if (st.block) v = values.length ? { value: v, ...settingsObject(st.block, file, src) } : settingsObject(st.block, file, src);
    const key = st.key.name;
    if (!(key in out)) out[key] = v;
    else if (repeated.has(key)) (out[key] as unknown[]).push(v);
    else {
      repeated.add(key);
      out[key] = [out[key], v];
    }
  }
  return out;
}

function atomValue(a: A.Atom, file: string, src: (r: A.Range) => string): unknown {
  switch (a.kind) {
    case 'number': return a.value;
    case 'duration': return a.ms;
    case 'name': return a.name;
    case 'msgtype': return a.text;
    case 'star': return '*';
    case 'hl7path': return a.path.text;
    case 'string': return a.value;
    case 'env': case 'file': return S.toValue(a, file, src);
  }
}
