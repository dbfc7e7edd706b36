// HL7 v2 dictionary (2.1–2.7.1 from hl7-dictionary; 2.8 answered from 2.7.1) for compile-time
// path checks, completion and hover. Tables load on first use of a version and stay cached.
import type { Hl7Path } from '../../plan/plan.types.ts';
import { closest, editDistance } from './closest.ts';
import { readTable } from './read-table.ts';
import type { Hl7CommonTable, Hl7FieldRow, Hl7Optionality, Hl7StructureRow, Hl7ValueTables, Hl7VersionTable } from './table-shapes.ts';

export type { Hl7Optionality } from './table-shapes.ts';

/** Versions with their own tables. */
export const HL7_DICTIONARY_VERSIONS: readonly string[] = ['2.1', '2.2', '2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1'];
/** 2.8 (and its 2.8.1/2.8.2 ballots) is not in the dictionary; 2.7.1 is its nearest predecessor. */
const FALLBACKS: Record<string, string> = { '2.8': '2.7.1', '2.8.1': '2.7.1', '2.8.2': '2.7.1' };
/** Every version a sender may declare. */
export const HL7_VERSIONS: readonly string[] = [...HL7_DICTIONARY_VERSIONS, ...Object.keys(FALLBACKS)];

export interface Hl7VersionResolution {
  /** The dictionary version that answers. */
  version: string;
  /** Set when the declared version has no tables of its own (2.8 → 2.7.1). */
  fallbackFrom?: string;
}

export function resolveHl7Version(v: string): Hl7VersionResolution | undefined {
  const declared = v.trim();
  if (HL7_DICTIONARY_VERSIONS.includes(declared)) return { version: declared };
  const fallback = FALLBACKS[declared];
  return fallback ? { version: fallback, fallbackFrom: declared } : undefined;
}

/**
 * Quick fixes for an unknown version: the known versions one or two edits away, nearest first
 * ("2.5.2" → 2.5.1, 2.5). Offered as choices, never guessed into the message: versions that differ
 * by a digit are different standards.
 */
export function nearHl7Versions(v: string): string[] {
  const want = v.trim();
  const shared = (k: string) => { let i = 0; while (i < k.length && k[i] === want[i]) i++; return i; };
  // The version that shares the longer start is the likelier slip (2.5.2 → 2.5.1, 2.5, then 2.8.2).
  return HL7_VERSIONS.map((k) => ({ k, d: editDistance(want, k, 2) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => shared(b.k) - shared(a.k) || a.d - b.d)
    .slice(0, 3)
    .map((x) => x.k);
}

/** The message for an unknown version, with the known ones and the closest guess. */
export function unknownHl7VersionMessage(v: string): string {
  return `unknown HL7 version "${v}"; known versions: ${HL7_VERSIONS.join(', ')} (2.8 is checked against 2.7.1)`;
}

export interface FieldInfo {
  segment: string;
  position: number;
  name: string;
  dataType: string;
  optionality: Hl7Optionality;
  repeatable: boolean;
  /** Set when the standard bounds the repetitions (e.g. 2); absent when unbounded or not repeating. */
  maxRepetitions?: number;
  length?: number;
  /** HL7 table number (1 → HL7 table 0001). */
  table?: number;
}

export interface ComponentInfo {
  position: number;
  name: string;
  dataType: string;
  optionality: Hl7Optionality;
  length?: number;
  table?: number;
}

export interface SegmentInfo {
  code: string;
  description: string;
  fields: FieldInfo[];
}

export interface DataTypeInfo {
  code: string;
  description: string;
  /** Empty for primitives (ST, NM, ID, …) and for VARIES. */
  components: ComponentInfo[];
  primitive: boolean;
  /** The type is decided per message (OBX-5 by OBX-2): any component may be present. */
  varies: boolean;
}

export interface CodeInfo {
  code: string;
  description: string;
}

export interface MessageStructureNode {
  /** A segment code, or a group name (PATIENT_RESULT) with children. */
  name: string;
  min: number;
  /** Undefined when unbounded. */
  max?: number;
  children?: MessageStructureNode[];
}

export interface MessageStructureInfo {
  code: string;
  description: string;
  /** Every segment the message may contain, in order of first appearance. */
  segments: string[];
  tree: MessageStructureNode[];
}

// ---------------------------------------------------------------- lookups

interface VersionIndex {
  table: Hl7VersionTable;
  segments: Map<string, SegmentInfo>;
  dataTypes: Map<string, DataTypeInfo>;
  allSegments?: SegmentInfo[];
}

const indexes = new Map<string, VersionIndex>();

function index(version: string): VersionIndex | undefined {
  const resolved = resolveHl7Version(version);
  if (!resolved) return undefined;
  let found = indexes.get(resolved.version);
  if (!found) {
    found = { table: readTable<Hl7VersionTable>(`hl7-${resolved.version}.json`), segments: new Map(), dataTypes: new Map() };
    indexes.set(resolved.version, found);
  }
  return found;
}

function common(): Hl7CommonTable {
  return readTable<Hl7CommonTable>('hl7-common.json');
}

function fieldInfo(segment: string, row: Hl7FieldRow, i: number): FieldInfo {
  const [name, dataType, optionality, rep, length, table] = row;
  const info: FieldInfo = { segment, position: i + 1, name, dataType, optionality, repeatable: rep !== 1 };
  if (rep > 1) info.maxRepetitions = rep;
  if (length !== null) info.length = length;
  if (table !== null) info.table = table;
  return info;
}

function componentInfo(row: Hl7FieldRow, i: number): ComponentInfo {
  const [name, dataType, optionality, , length, table] = row;
  const info: ComponentInfo = { position: i + 1, name, dataType, optionality };
  if (length !== null) info.length = length;
  if (table !== null) info.table = table;
  return info;
}

export function segment(version: string, code: string): SegmentInfo | undefined {
  const ix = index(version);
  if (!ix) return undefined;
  let info = ix.segments.get(code);
  if (!info) {
    const raw = ix.table.segments[code];
    if (!raw) return undefined;
    info = { code, description: raw.description, fields: raw.fields.map((row, i) => fieldInfo(code, row, i)) };
    ix.segments.set(code, info);
  }
  return info;
}

/** All segments of a version, by code (for completion). */
export function segments(version: string): SegmentInfo[] {
  const ix = index(version);
  if (!ix) return [];
  ix.allSegments ??= Object.keys(ix.table.segments).map((code) => segment(version, code)!);
  return ix.allSegments;
}

export function field(version: string, segmentCode: string, position: number): FieldInfo | undefined {
  return segment(version, segmentCode)?.fields[position - 1];
}

export function dataType(version: string, code: string): DataTypeInfo | undefined {
  const ix = index(version);
  if (!ix) return undefined;
  let info = ix.dataTypes.get(code);
  if (!info) {
    const raw = ix.table.dataTypes[code];
    if (!raw) return undefined;
    const components = raw.components.map(componentInfo);
    // 2.1's CM ("composite miscellaneous") has a different layout in every field that uses it.
    const varies = code === 'VARIES' || (code === 'CM' && components.length === 0);
    info = { code, description: raw.description, components, primitive: components.length === 0 && !varies, varies };
    ix.dataTypes.set(code, info);
  }
  return info;
}

/** Message types this version defines (ADT, ORU, …), from its message definitions. */
export function messageTypes(version: string): CodeInfo[] {
  const ix = index(version);
  return ix ? Object.entries(ix.table.messageTypes).map(([code, description]) => ({ code, description })) : [];
}

/** Trigger events this version defines (A01, R01, …). */
export function triggerEvents(version: string): CodeInfo[] {
  const ix = index(version);
  return ix ? Object.entries(ix.table.triggerEvents).map(([code, description]) => ({ code, description })) : [];
}

/**
 * 'defined': this version defines it; 'other-version': HL7 table 0076/0003 or another version
 * has it (the dictionary's per-version lists are incomplete, so treat this as a warning at most);
 * 'unknown': no version knows it.
 */
export type Hl7CodeStatus = 'defined' | 'other-version' | 'unknown';

function codeStatus(version: string, code: string, pick: (t: { messageTypes: Record<string, string>; triggerEvents: Record<string, string> }) => Record<string, string>): Hl7CodeStatus {
  const ix = index(version);
  if (ix && Object.hasOwn(pick(ix.table), code)) return 'defined';
  return Object.hasOwn(pick(common()), code) ? 'other-version' : 'unknown';
}

export function messageTypeStatus(version: string, code: string): Hl7CodeStatus {
  return codeStatus(version, code, (t) => t.messageTypes);
}

export function triggerStatus(version: string, code: string): Hl7CodeStatus {
  return codeStatus(version, code, (t) => t.triggerEvents);
}

/** True unless no HL7 version knows the message type (see messageTypeStatus for the version detail). */
export function messageTypeKnown(version: string, code: string): boolean {
  return messageTypeStatus(version, code) !== 'unknown';
}

export function triggerKnown(version: string, code: string): boolean {
  return triggerStatus(version, code) !== 'unknown';
}

/** Closest message type / trigger codes, for "did you mean". */
export function suggestMessageTypes(version: string, code: string): string[] {
  return closest(code, [...messageTypes(version).map((m) => m.code), ...Object.keys(common().messageTypes)], 3, { maxDistance: 1 });
}

export function suggestTriggers(version: string, code: string): string[] {
  return closest(code, [...triggerEvents(version).map((m) => m.code), ...Object.keys(common().triggerEvents)], 3, { maxDistance: 1 });
}

function structureNode([name, min, max, children]: Hl7StructureRow): MessageStructureNode {
  const node: MessageStructureNode = { name, min };
  if (max !== 0) node.max = max;
  if (children) node.children = children.map(structureNode);
  return node;
}

/**
 * The segments a message may carry, by `ADT_A04`, `ADT^A04` or `ADT^A04^ADT_A01` (the event's own
 * definition wins over the named structure, which older versions lack), or a bare type such as ACK.
 */
export function messageStructure(version: string, code: string): MessageStructureInfo | undefined {
  const ix = index(version);
  if (!ix) return undefined;
  const parts = code.split(/[\^_]/);
  const keys = [parts.slice(0, 2).join('_'), parts.slice(2).join('_'), parts[0]!].filter(Boolean);
  const key = keys.find((k) => ix.table.messages[k]);
  if (!key) return undefined;
  const raw = ix.table.messages[key]!;
  const tree = raw.structure.map(structureNode);
  const segs = new Set<string>();
  const walk = (nodes: Hl7StructureRow[]) => {
    for (const [name, , , children] of nodes) children ? walk(children) : segs.add(name);
  };
  walk(raw.structure);
  return { code: key, description: raw.description, segments: [...segs], tree };
}

export interface SegmentOccurrence {
  /** Whether the message's structure has the segment at all. */
  present: boolean;
  /** Whether it may occur more than once (itself repeating, or inside a repeating group). */
  repeats: boolean;
  /** Whether it must be there (min ≥ 1 along its whole path in the structure). */
  required: boolean;
}

/**
 * Where a segment stands in a message (`ADT^A01`): present, repeating, required. Undefined when the
 * dictionary has no structure for the message, so callers can stay silent rather than guess.
 */
export function segmentOccurrence(version: string, message: string, segmentCode: string): SegmentOccurrence | undefined {
  const structure = messageStructure(version, message);
  if (!structure) return undefined;
  const found: SegmentOccurrence = { present: false, repeats: false, required: false };
  const walk = (nodes: MessageStructureNode[], repeating: boolean, required: boolean) => {
    for (const node of nodes) {
      const here = repeating || node.max === undefined || node.max > 1;
      const must = required && node.min >= 1;
      if (node.children) walk(node.children, here, must);
      else if (node.name === segmentCode) {
        // A segment listed twice (ROL in ADT_A01) can occur twice.
        found.repeats ||= here || found.present;
        found.required ||= must;
        found.present = true;
      }
    }
  };
  walk(structure.tree, false, true);
  return found;
}

export interface Hl7ValueTable {
  /** Four digits: "0001". */
  id: string;
  description: string;
  values: CodeInfo[];
}

/** An HL7-defined table (FieldInfo.table → its values), e.g. 1 → 0001 Administrative Sex: F Female, M Male, … */
export function hl7Table(id: number | string): Hl7ValueTable | undefined {
  const key = String(id).padStart(4, '0');
  const t = readTable<Hl7ValueTables>('hl7-tables.json').tables[key];
  return t ? { id: key, description: t.description, values: Object.entries(t.values).map(([code, description]) => ({ code, description })) } : undefined;
}

// ---------------------------------------------------------------- path checks

export type Hl7PathPart = 'version' | 'segment' | 'field' | 'component' | 'subcomponent' | 'repetition';

export interface Hl7PathOk {
  ok: true;
  /** Z-segments are site-defined: nothing past the segment code can be checked. */
  siteDefined?: boolean;
  segment?: SegmentInfo;
  field?: FieldInfo;
  component?: ComponentInfo;
  subcomponent?: ComponentInfo;
  /** The field's or component's type is VARIES (OBX-5): deeper positions are taken on trust. */
  varies?: boolean;
}

export interface Hl7PathProblem {
  ok: false;
  part: Hl7PathPart;
  /** Warning-level: the path is readable but unusual (repeats on a non-repeating field, `.1` of a primitive). */
  warning?: true;
  message: string;
  /** Display strings with names, nearest first: "PID-5 Patient Name". */
  suggestions: string[];
  /** The same suggestions as path text for a quick fix: "PID-5". */
  replacements: string[];
  /** What did resolve, for hover and for warnings. */
  field?: FieldInfo;
  component?: ComponentInfo;
}

export type Hl7PathCheck = Hl7PathOk | Hl7PathProblem;

function problem(part: Hl7PathPart, message: string, suggestions: { text: string; label: string }[] = [], extra: Partial<Hl7PathProblem> = {}): Hl7PathProblem {
  return { ok: false, part, message, suggestions: suggestions.map((s) => s.label), replacements: suggestions.map((s) => s.text), ...extra };
}

/** The segments most messages carry, so that "did you mean" prefers them among equals. */
const COMMON_SEGMENTS = ['MSH', 'PID', 'PV1', 'OBX', 'OBR', 'ORC', 'EVN', 'NK1', 'PD1', 'PV2', 'AL1', 'DG1', 'IN1', 'GT1', 'NTE', 'MSA', 'ERR', 'SPM', 'TQ1', 'RXA', 'RXE', 'RXO', 'SCH', 'AIS', 'FT1', 'PR1', 'MRG', 'QRD', 'QPD', 'RCP'];

function segmentCodesCommonFirst(version: string): string[] {
  const all = segments(version).map((s) => s.code);
  return [...COMMON_SEGMENTS.filter((c) => all.includes(c)), ...all];
}

const isSiteDefined = (code: string) => code.startsWith('Z');
const repText = (rep: number | '*') => `[${rep}]`;

/** Positions whose number is closest in spelling, or the last ones when nothing is close. */
function positionSuggestions<T extends { position: number; name: string }>(wanted: number, items: T[], prefix: string) {
  const byText = new Map(items.map((item) => [String(item.position), item]));
  const typed = String(wanted);
  // Among equally close numbers, one digit typed too many or too few (OBX-51 → OBX-5) is likelier
  // than a swap (OBX-15) or another digit (OBX-1); closest() keeps the order otherwise.
  const slip = (k: string) => (typed.startsWith(k) || k.startsWith(typed) ? 0 : 1);
  const near = closest(typed, byText.keys(), 10, { maxDistance: 1 });
  let picks = near.map((k, i) => ({ k, i })).sort((a, b) => slip(a.k) - slip(b.k) || a.i - b.i).slice(0, 3).map(({ k }) => byText.get(k)!);
  if (picks.length === 0) picks = items.slice(-1);
  return picks.map((item) => ({ text: `${prefix}${item.position}`, label: `${prefix}${item.position} ${item.name}` }));
}

/**
 * Checks a path against the sender's declared version. Errors come first (segment, field,
 * component, subcomponent); a repetition on a non-repeating field only warns, because senders
 * often repeat such fields anyway, and so does everything checked against a fallback version.
 */
export function checkHl7Path(version: string, path: Hl7Path): Hl7PathCheck {
  const resolved = resolveHl7Version(version);
  // Version numbers that differ by a digit are different standards: list them all, guess none.
  if (!resolved) return problem('version', unknownHl7VersionMessage(version));
  const { version: v, fallbackFrom } = resolved;
  const result = checkPathIn(v, fallbackFrom ? `HL7 v${fallbackFrom} (checked against v${v})` : `HL7 v${v}`, path);
  // v2.8 added segments, fields and components that v2.7.1 lacks: what 2.7.1 does not know may
  // well be right, so findings against the fallback are warnings.
  if (fallbackFrom && !result.ok && !result.warning) return { ...result, warning: true, message: `${result.message} (v${fallbackFrom} may define it)` };
  return result;
}

function checkPathIn(v: string, label: string, path: Hl7Path): Hl7PathCheck {
  const code = path.segment;
  if (isSiteDefined(code)) return { ok: true, siteDefined: true };
  const seg = segment(v, code);
  if (!seg) {
    const near = closest(code, segmentCodesCommonFirst(v), 3);
    return problem('segment', `unknown segment ${code} in ${label}${near.length ? `; did you mean ${near.map((c) => `${c} (${segment(v, c)!.description})`).join(', ')}?` : ''}`, near.map((c) => ({ text: c, label: `${c} ${segment(v, c)!.description}` })));
  }
  if (path.field === undefined) return { ok: true, segment: seg };

  const f = seg.fields[path.field - 1];
  if (!f) {
    const near = positionSuggestions(path.field, seg.fields, `${code}-`);
    return problem('field', `${code}-${path.field} does not exist in ${label}: ${code} has ${seg.fields.length} fields; did you mean ${near.map((s) => s.label).join(', ')}?`, near);
  }
  const fieldText = `${code}-${f.position}`;
  const delimiters = code === 'MSH' && f.position <= 2;
  let warning: Hl7PathProblem | undefined;
  const rep = path.fieldRep;
  if (rep !== undefined && rep !== 1) {
    if (delimiters) return problem('repetition', `${fieldText} ${f.name} holds the message's delimiters and never repeats`, [{ text: fieldText, label: `${fieldText} ${f.name}` }], { field: f });
    if (!f.repeatable) warning = problem('repetition', `${fieldText} ${f.name} does not repeat in ${label}; ${repText(rep)} reads repetitions the sender should not send`, [], { warning: true, field: f });
    else if (typeof rep === 'number' && f.maxRepetitions !== undefined && rep > f.maxRepetitions) warning = problem('repetition', `${fieldText} ${f.name} repeats at most ${f.maxRepetitions} times in ${label}`, [], { warning: true, field: f });
  }
  if (path.component === undefined) return warning ?? { ok: true, segment: seg, field: f };

  if (delimiters) return problem('component', `${fieldText} ${f.name} holds the message's delimiters and has no components`, [{ text: fieldText, label: `${fieldText} ${f.name}` }], { field: f });
  const fieldType = dataType(v, f.dataType);
  if (!fieldType || fieldType.varies) return warning ?? { ok: true, segment: seg, field: f, varies: true };
  const resolvedComponent = position(label, `${fieldText}`, f.name, fieldType, path.component, 'component');
  if (!resolvedComponent.ok) return { ...resolvedComponent, field: f };
  const c = resolvedComponent.item;
  warning ??= resolvedComponent.warning && { ...resolvedComponent.warning, field: f };
  if (path.subcomponent === undefined) return warning ?? { ok: true, segment: seg, field: f, component: c };

  const componentText = `${fieldText}.${path.component}`;
  if (!c) return problem('subcomponent', `${componentText} is primitive and has no subcomponents`, [], { field: f });
  const componentType = dataType(v, c.dataType);
  if (!componentType || componentType.varies) return warning ?? { ok: true, segment: seg, field: f, component: c, varies: true };
  const resolvedSub = position(label, componentText, c.name, componentType, path.subcomponent, 'subcomponent');
  if (!resolvedSub.ok) return { ...resolvedSub, field: f, component: c };
  warning ??= resolvedSub.warning && { ...resolvedSub.warning, field: f, component: c };
  return warning ?? { ok: true, segment: seg, field: f, component: c, subcomponent: resolvedSub.item };
}

type PositionResult = { ok: true; item?: ComponentInfo; warning?: Hl7PathProblem } | Hl7PathProblem;

/** Resolves a component (or subcomponent) position inside a data type. */
function position(label: string, parentText: string, parentName: string, type: DataTypeInfo, wanted: number, part: 'component' | 'subcomponent'): PositionResult {
  const text = `${parentText}.${wanted}`;
  if (type.primitive) {
    // `.1` of a primitive is the whole value: readable, so only a warning; anything deeper is empty.
    if (wanted === 1) return { ok: true, warning: problem(part, `${parentText} ${parentName} is ${type.code}, a primitive in ${label}: ${text} is the whole value; write ${parentText}`, [{ text: parentText, label: `${parentText} ${parentName}` }], { warning: true }) };
    return problem(part, `${parentText} ${parentName} is ${type.code}, a primitive in ${label}, and has no ${part}s`, [{ text: parentText, label: `${parentText} ${parentName}` }]);
  }
  const item = type.components[wanted - 1];
  if (!item) {
    const near = positionSuggestions(wanted, type.components, `${parentText}.`);
    return problem(part, `${text} does not exist in ${label}: ${type.code} (${type.description}) has ${type.components.length} ${part}s; did you mean ${near.map((s) => s.label).join(', ')}?`, near);
  }
  return { ok: true, item };
}

const OPTIONALITY_WORDS: Record<Hl7Optionality, string> = {
  R: 'required',
  O: 'optional',
  C: 'conditional',
  W: 'withdrawn',
  B: 'kept for backward compatibility',
  X: 'not used',
};

/** Hover text, e.g. `PID-5.1 Family Name (FN) — Patient Name (XPN), required, repeating`. */
export function describeHl7Path(version: string, path: Hl7Path): string {
  const check = checkHl7Path(version, path);
  const resolved = resolveHl7Version(version);
  const v = resolved?.version ?? version;
  const text = pathText(path);
  if (check.ok && check.siteDefined) return `${text} site-defined segment (Z-segment): not in the HL7 dictionary`;
  const f = check.field;
  if (!f) return check.ok ? `${path.segment} ${check.segment?.description ?? ''}`.trim() : check.message;
  const fieldType = dataType(v, f.dataType);
  const repeats = f.repeatable ? (f.maxRepetitions ? `repeating (at most ${f.maxRepetitions})` : 'repeating') : 'not repeating';
  let out = `${f.name} (${f.dataType})${fieldType?.varies ? ' — type given by the message' : ''}, ${OPTIONALITY_WORDS[f.optionality]}, ${repeats}`;
  if (f.segment === 'MSH' && f.position <= 2) out += ', read from the message header itself';
  let deepest: { table?: number } = f;
  if (check.component) {
    out = `${check.component.name} (${check.component.dataType}) — ${out}`;
    deepest = check.component;
  }
  if (check.ok && check.subcomponent) {
    out = `${check.subcomponent.name} (${check.subcomponent.dataType}) — ${out}`;
    deepest = check.subcomponent;
  }
  if (deepest.table !== undefined) out += `, table ${String(deepest.table).padStart(4, '0')}`;
  if (resolved?.fallbackFrom) out += ` (v${resolved.fallbackFrom} read as v${v})`;
  if (!check.ok) out += ` — ${check.warning ? 'warning' : 'error'}: ${check.message}`;
  return `${text} ${out}`;
}

/** Canonical text of a path without segment repetition: PID-3[2].4.1. */
export function pathText(path: Hl7Path): string {
  let text = path.segment;
  if (path.field !== undefined) text += `-${path.field}`;
  if (path.fieldRep !== undefined && path.fieldRep !== 1) text += repText(path.fieldRep);
  if (path.component !== undefined) text += `.${path.component}`;
  if (path.subcomponent !== undefined) text += `.${path.subcomponent}`;
  return text;
}
