// Lowering of a module's declaration (`KEYWORD [NAME] [from NAME] { settings }`) into
// plan.modules[module][NAME or KEYWORD]: its settings checked against the module's spec and
// written as plain JSON (strings, numbers, milliseconds for durations, lists for several values,
// objects for nested blocks; env() and file() as the plan's secret markers).
import type * as A from '../../syntax/ast.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable } from '../symbols.ts';
import type { RefTop } from '../resolve.ts';
import * as S from '../settings.ts';
import { moduleDeclaration, moduleSpecs } from '../../specs/module-spec.ts';

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
export function checkModuleBlocks(modules: Record<string, Record<string, unknown>>, declared: ModuleDecls, reporterFor: (file: string) => Reporter): void {
  for (const spec of moduleSpecs()) {
    const blocks = modules[spec.name];
    if (!spec.check || !blocks) continue;
    for (const p of spec.check(blocks)) {
      const at = declared.get(`${spec.name}\u0000${p.block}`);
      if (!at) continue;
      const setting = p.setting ? at.d.settings.find((st) => st.key.name === p.setting) : undefined;
      const range = setting?.key.range ?? at.d.keyword.range;
      const r = reporterFor(at.file);
      if (p.severity === 'error') r.error(p.code, range, p.summary, p.hint);
      else r.warning(p.code, range, p.summary, p.hint);
    }
  }
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
