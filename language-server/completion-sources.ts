// Completion items from the compiler's tables: HL7 v2 (per version), FHIR R4, settings and
// functions. Each function turns one table into items; the completion handler picks which.
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Range } from 'vscode-languageserver';
import * as hl7 from '../compiler/dictionaries/hl7.ts';
import * as fhir from '../compiler/dictionaries/fhir.ts';
import { readTable } from '../compiler/dictionaries/read-table.ts';
import type { Hl7VersionTable } from '../compiler/dictionaries/table-shapes.ts';
import { functions } from '../compiler/semantics/functions.ts';
import type { SettingsSpec } from '../compiler/semantics/settings.ts';
import type { Declaration, SymbolTable } from '../compiler/semantics/symbols.ts';

/** Used when a sender declares no version: the most common one in the field. */
export const DEFAULT_HL7_VERSION = '2.5.1';

const optionality: Record<string, string> = { R: 'required', O: 'optional', C: 'conditional', W: 'withdrawn', B: 'backward compatible', X: 'not used' };
const md = (value: string) => ({ kind: MarkupKind.Markdown, value });
const sortKey = (group: number, i: number) => `${group}${String(i).padStart(5, '0')}`;

function replacing(label: string, range: Range | undefined, item: CompletionItem): CompletionItem {
  if (range) {
    item.textEdit = { range, newText: item.insertText && item.insertTextFormat !== InsertTextFormat.Snippet ? item.insertText : label };
    item.filterText = label;
    delete item.insertText;
  }
  return item;
}

// ---------------------------------------------------------------- HL7 v2

/**
 * Paths being typed: `PI` → segments; `PID-` / `PID-5` → fields; `PID-5.` → components;
 * `PID-5.1.` → subcomponents. Labels are whole paths (`PID-5.1`), replacing what was typed.
 */
export function hl7PathItems(version: string, typed: string, range: Range, preferredSegments: string[] = []): CompletionItem[] {
  const v = hl7.resolveHl7Version(version)?.version ?? DEFAULT_HL7_VERSION;
  const m = /^([A-Z][A-Z0-9]{0,2})(\[(?:\d+|\*)\])?(?:-(\d*)(\[(?:\d+|\*)\]?)?(?:\.(\d*))?(?:\.(\d*))?)?$/.exec(typed);
  if (!m) return [];
  const [, seg, segRep = '', field, fieldRep = '', component, sub] = m;
  if (field === undefined) {
    const preferred = new Set(preferredSegments);
    return hl7.segments(v).map((s, i) =>
      replacing(s.code, range, {
        label: s.code,
        kind: CompletionItemKind.Module,
        detail: s.description,
        documentation: md(`**${s.code}** — ${s.description} (HL7 v${v}), ${s.fields.length} fields`),
        sortText: sortKey(preferred.has(s.code) ? 0 : s.code.startsWith('Z') ? 2 : 1, i),
      }),
    );
  }
  const segment = hl7.segment(v, seg!);
  if (!segment) return [];
  const base = `${seg}${segRep}-`;
  if (component === undefined) {
    return segment.fields.map((f, i) => {
      const label = `${base}${f.position}`;
      return replacing(label, range, {
        label,
        kind: CompletionItemKind.Field,
        detail: `${f.name} (${f.dataType})`,
        documentation: md(fieldDoc(v, f)),
        sortText: sortKey(0, i),
      });
    });
  }
  const fieldInfo = segment.fields[Number(field) - 1];
  if (!fieldInfo) return [];
  const rep = fieldRep.endsWith(']') ? fieldRep : '';
  const type = hl7.dataType(v, fieldInfo.dataType);
  if (sub === undefined) {
    return (type?.components ?? []).map((c, i) => componentItem(`${base}${field}${rep}.`, c, range, i));
  }
  const comp = type?.components[Number(component) - 1];
  const subType = comp && hl7.dataType(v, comp.dataType);
  return (subType?.components ?? []).map((c, i) => componentItem(`${base}${field}${rep}.${component}.`, c, range, i));
}

/** Components of a field's type for relative paths (`.4.1` inside `where`). */
export function hl7RelativeItems(version: string, fieldType: string, typed: string, range: Range): CompletionItem[] {
  const v = hl7.resolveHl7Version(version)?.version ?? DEFAULT_HL7_VERSION;
  const m = /^\.(\d*)(?:\.(\d*))?$/.exec(typed);
  if (!m) return [];
  const type = hl7.dataType(v, fieldType);
  if (m[2] === undefined) return (type?.components ?? []).map((c, i) => componentItem('.', c, range, i));
  const comp = type?.components[Number(m[1]) - 1];
  const subType = comp && hl7.dataType(v, comp.dataType);
  return (subType?.components ?? []).map((c, i) => componentItem(`.${m[1]}.`, c, range, i));
}

function componentItem(prefix: string, c: hl7.ComponentInfo, range: Range, i: number): CompletionItem {
  const label = `${prefix}${c.position}`;
  return replacing(label, range, {
    label,
    kind: CompletionItemKind.Field,
    detail: `${c.name} (${c.dataType})`,
    documentation: md(`**${c.name}** (${c.dataType}), ${optionality[c.optionality] ?? c.optionality}${c.table !== undefined ? `, table ${String(c.table).padStart(4, '0')}` : ''}`),
    sortText: sortKey(0, i),
  });
}

export function fieldDoc(version: string, f: hl7.FieldInfo): string {
  const repeats = f.repeatable ? (f.maxRepetitions ? `repeats up to ${f.maxRepetitions} times` : 'repeats') : 'does not repeat';
  const type = hl7.dataType(version, f.dataType);
  const parts = [`**${f.segment}-${f.position} ${f.name}** — ${f.dataType}${type ? ` (${type.description})` : ''}`, `${optionality[f.optionality] ?? f.optionality}, ${repeats}`];
  if (f.length !== undefined) parts.push(`length ${f.length}`);
  if (f.table !== undefined) parts.push(`HL7 table ${String(f.table).padStart(4, '0')}`);
  return `${parts[0]}\n\n${parts.slice(1).join(', ')} (HL7 v${version})`;
}

/** `ADT^A01`, `ORU^*`, `*`: the message types and trigger events the version defines. */
export function messageTypeItems(version: string, range: Range | undefined, preferred: string[] = []): CompletionItem[] {
  const resolved = hl7.resolveHl7Version(version)?.version ?? DEFAULT_HL7_VERSION;
  const table = readTable<Hl7VersionTable>(`hl7-${resolved}.json`);
  const triggers = table.triggerEvents;
  const items: CompletionItem[] = [];
  const pref = new Set(preferred);
  let i = 0;
  for (const key of Object.keys(table.messages)) {
    const [type, trigger] = key.split('_');
    if (!type || !trigger) continue;
    const label = `${type}^${trigger}`;
    items.push(replacing(label, range, {
      label,
      kind: CompletionItemKind.EnumMember,
      // Detail only (no documentation): several hundred items go over the wire on every request.
      detail: triggers[trigger] ?? table.messages[key]!.description,
      sortText: sortKey(pref.has(label) ? 0 : 1, i++),
    }));
  }
  for (const [type, description] of Object.entries(table.messageTypes)) {
    const label = `${type}^*`;
    items.push(replacing(label, range, { label, kind: CompletionItemKind.EnumMember, detail: `every ${description}`, sortText: sortKey(pref.has(label) ? 0 : 2, i++) }));
  }
  items.push(replacing('*', range, { label: '*', kind: CompletionItemKind.EnumMember, detail: 'every message type', sortText: sortKey(3, 0) }));
  return items;
}

export function hl7VersionItems(): CompletionItem[] {
  return hl7.HL7_VERSIONS.map((v, i) => ({ label: `"${v}"`, kind: CompletionItemKind.Constant, detail: `HL7 v${v}`, sortText: sortKey(0, i) }));
}

// ---------------------------------------------------------------- FHIR R4

export function resourceTypeItems(): CompletionItem[] {
  return fhir.resourceTypes().map((name) => ({
    label: name,
    kind: CompletionItemKind.Class,
    detail: 'FHIR R4 resource',
    documentation: md(`**${name}** — ${fhir.resourceType(name)?.description ?? ''}`),
  }));
}

export function searchParamItems(type: string, used: Set<string>): CompletionItem[] {
  const group = { resource: 0, common: 1, result: 2 } as const;
  return fhir.searchParams(type).filter((p) => !used.has(p.code)).map((p, i) => ({
    label: p.code,
    kind: CompletionItemKind.Property,
    detail: `${p.type} search parameter`,
    documentation: md(`**${type}?${p.code}** (${p.type}) — ${p.description}${p.expression ? `\n\n\`${p.expression}\`` : ''}`),
    insertText: /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.code) ? `${p.code}: ` : `"${p.code}": `,
    sortText: sortKey(group[p.scope], i),
  }));
}

/** The elements after a dot or as object keys; choice elements (`value[x]`) offer each typed form. */
export function elementItems(elements: fhir.ElementInfo[], asKeys: boolean): CompletionItem[] {
  const items: CompletionItem[] = [];
  elements.forEach((e, i) => {
    const name = e.path.slice(e.path.lastIndexOf('.') + 1);
    const names = name.endsWith('[x]') ? e.types.map((t) => name.slice(0, -3) + t[0]!.toUpperCase() + t.slice(1)) : [name];
    for (const n of names) {
      items.push({
        label: n,
        kind: CompletionItemKind.Property,
        detail: `${e.types.join(' | ') || 'element'} ${e.min}..${e.max}`,
        documentation: md(e.description),
        ...(asKeys ? { insertText: `${n}: ` } : {}),
        sortText: sortKey(e.min > 0 ? 0 : 1, i),
      });
    }
  });
  return items;
}

/** The elements of what a path from a FHIR type leads to (`entry[0].resource` of a Bundle of Patients → Patient's). */
export function elementsAt(type: string, path: string, resourceHint?: string): fhir.ElementInfo[] {
  if (!path) return fhir.childElements(type, '');
  const r = fhir.resolveElementPath(type, path, resourceHint);
  if (!r.ok || r.open) return [];
  const el = r.element;
  if (el.contentReference) return fhir.childElements(r.owner, el.contentReference);
  const t = r.types.length === 1 ? r.types[0]! : undefined;
  if (!t) return [];
  if (t === 'BackboneElement' || t === 'Element') return fhir.childElements(r.owner, el.path);
  if (t === 'Resource') return resourceHint ? fhir.childElements(resourceHint, '') : [];
  return fhir.childElements(t, '');
}

// ---------------------------------------------------------------- the language's own tables

export function settingItems(spec: SettingsSpec, present: Set<string>): CompletionItem[] {
  return Object.entries(spec)
    .filter(([key, s]) => s.repeatable || !present.has(key))
    .map(([key, s], i) => ({
      label: key,
      kind: CompletionItemKind.Property,
      detail: s.kind === 'enum' ? s.options!.join(' | ') : s.kind,
      documentation: md(s.doc + (s.required ? '\n\nRequired.' : '')),
      sortText: sortKey(s.required ? 0 : 1, i),
    }));
}

export function keywordItems(words: readonly string[], group = 2): CompletionItem[] {
  return words.map((w, i) => ({ label: w, kind: CompletionItemKind.Keyword, sortText: sortKey(group, i) }));
}

export function snippetItem(label: string, body: string, detail: string): CompletionItem {
  return { label, kind: CompletionItemKind.Snippet, insertText: body, insertTextFormat: InsertTextFormat.Snippet, detail, sortText: sortKey(3, 0) };
}

export function functionItems(): CompletionItem[] {
  return Object.entries(functions).map(([name, f], i) => ({
    label: name,
    kind: CompletionItemKind.Function,
    detail: f.doc,
    insertText: f.max === 0 ? `${name}()` : `${name}($1)`,
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: sortKey(3, i),
  }));
}

/** Value maps, called like functions: gender(sex). */
export function valueMapItems(maps: SymbolTable['valueMaps'] | undefined): CompletionItem[] {
  return [...(maps?.values() ?? [])].map(({ map }, i) => ({
    label: map.name,
    kind: CompletionItemKind.Function,
    detail: `map: ${map.table.slice(0, 4).map(([k, v]) => `${k} → ${v}`).join(', ')}${map.table.length > 4 ? ', …' : ''}${map.else !== undefined ? `, else ${map.else}` : ''}`,
    insertText: `${map.name}($1)`,
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: sortKey(3, 100 + i),
  }));
}

const declarationKinds: Record<string, CompletionItemKind> = {
  auth: CompletionItemKind.Module,
  api: CompletionItemKind.Interface,
  sender: CompletionItemKind.Class,
  workflow: CompletionItemKind.Function,
  launch: CompletionItemKind.Function,
  step: CompletionItemKind.Variable,
  field: CompletionItemKind.Field,
  variable: CompletionItemKind.Variable,
  test: CompletionItemKind.Method,
};

export function declarationItems(decls: Declaration[], group = 0): CompletionItem[] {
  const seen = new Set<string>();
  const out: CompletionItem[] = [];
  decls.forEach((d, i) => {
    if (seen.has(d.name)) return;
    seen.add(d.name);
    const detail = d.resourceType ? `${d.kind}: ${d.search ? `Bundle of ${d.resourceType}` : d.resourceType}` : d.detail ? `${d.kind}: ${d.detail}` : d.type ? `${d.kind}: ${d.type}` : d.kind;
    out.push({ label: d.name, kind: declarationKinds[d.kind] ?? CompletionItemKind.Variable, detail, sortText: sortKey(group, i) });
  });
  return out;
}
