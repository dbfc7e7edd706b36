// FHIR R4 checks on the bodies of create and update: every key names an element of the resource
// (`stauts` → status), values have the element's shape (a CodeableConcept is an object, not a
// text; a repeating element is a list), codes of required bindings are allowed ones
// (Appointment.status "confirmed" → "booked"), and a whole-resource write has its required elements.
import type * as A from '../syntax/ast.ts';
import type { ValueType } from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import type { Suggestion } from '../diagnostics.ts';
import { childElements, isPrimitiveType, isResourceType, resolveElementPath, type ResolvedElement } from '../dictionaries/fhir.ts';
import { requiredBinding } from '../dictionaries/fhir-bindings.ts';
import { closest } from '../dictionaries/closest.ts';

export interface BodyCheckContext {
  r: Reporter;
  /** The static type of a name, where the checker knows it (mapped fields, let variables). */
  typeOf(name: string): ValueType | undefined;
  /** The output values of a value map used as `name(x)`, for binding checks. */
  mapOutputs?(name: string): { values: string[]; line: number } | undefined;
  /** The value map a mapped field applies (`sex = PID-8 -> gender`). */
  mapOf?(name: string): string | undefined;
}

const SCALAR = new Set<ValueType>(['string', 'number', 'boolean', 'date', 'datetime', 'record']);
const NUMERIC = new Set(['integer', 'decimal', 'positiveInt', 'unsignedInt', 'integer64']);
/** How to write a text where a data type is expected: the element that holds it. */
const TEXT_HOLDER: Record<string, string> = { CodeableConcept: 'text', Reference: 'reference', Coding: 'code', Identifier: 'value', HumanName: 'text', Annotation: 'text', Address: 'text', Quantity: 'value' };

/** Checks a body written as an object literal; other bodies (a variable, a call) are not looked into. */
export function checkFhirBody(resourceType: string, body: A.Expr, whole: boolean, anchor: A.Range, ctx: BodyCheckContext): void {
  if (body.kind !== 'object' || !isResourceType(resourceType)) return;
  checkObject(resourceType, '', resourceType, body, whole ? anchor : undefined, ctx, true);
}

/**
 * root: the type paths are resolved from; base: the path of this object in it ('' at the root);
 * owner/ownerBase: where the object's own child elements are defined (for required elements).
 */
function checkObject(root: string, base: string, label: string, obj: A.ObjectExpr, requiredAnchor: A.Range | undefined, ctx: BodyCheckContext, isRoot = false): void {
  const { r } = ctx;
  for (const en of obj.entries) {
    if (en.key === 'resourceType' && isRoot) {
      if (en.value.kind === 'template' || en.value.kind === 'literal') {
        const v = literalText(en.value);
        if (v !== undefined && v !== root) {
          r.error('HDC4011', en.value.range, `resourceType "${v}" in a ${root} body`, `The body of a ${root} request is a ${root}.`, [{ replacement: JSON.stringify(root), range: en.value.range }]);
        }
      }
      continue;
    }
    if (en.key.startsWith('_')) continue; // a primitive's id and extensions
    const path = base ? `${base}.${en.key}` : en.key;
    const res = resolveElementPath(root, path);
    if (!res.ok) {
      r.error('HDC4010', en.keyRange, `${label} has no element "${en.key}"`,
        res.suggestions.length ? `Did you mean ${res.suggestions.map((s) => `"${s}"`).join(', ')}?` : `See the elements of ${label} in the FHIR R4 specification.`,
        res.suggestions.slice(0, 3).map((s) => ({ replacement: s, range: en.keyRange })));
      continue;
    }
    if (res.element.path.endsWith('[x]') && res.types.length > 1) {
      const stem = res.element.path.slice(res.element.path.lastIndexOf('.') + 1, -3);
      const variants = res.types.map((t) => stem + t[0]!.toUpperCase() + t.slice(1));
      r.error('HDC4010', en.keyRange, `${label}.${stem}[x] needs its type in the name`, `FHIR JSON names a choice with its type: ${variants.join(', ')}.`,
        variants.slice(0, 3).map((v) => ({ replacement: v, range: en.keyRange })));
      continue;
    }
    checkValue(root, path, `${label}.${en.key}`, res, en.value, en.keyRange, requiredAnchor !== undefined, ctx);
  }
  if (requiredAnchor) checkRequired(root, base, label, obj, requiredAnchor, ctx);
}

function checkValue(root: string, path: string, label: string, res: ResolvedElement, value: A.Expr, keyRange: A.Range, whole: boolean, ctx: BodyCheckContext): void {
  const { r } = ctx;
  const repeats = res.element.max !== '1' && res.element.max !== '0';
  if (value.kind === 'array') {
    if (!repeats) {
      r.error('HDC4011', value.range, `${label} takes one value, not a list`, `${label} is 0..1 or 1..1 in FHIR R4: write the value without [ ].`);
      return;
    }
    for (const item of value.items) checkItem(root, path, label, res, item, whole ? keyRange : undefined, ctx);
    return;
  }
  const single = staticType(value, ctx);
  if (repeats && single !== undefined && SCALAR.has(single)) {
    const text = r.textOf(value.range);
    r.error('HDC4011', value.range, `${label} repeats: FHIR JSON needs a list`, `${label} is 0..* in FHIR R4: write [ … ] around the value.`,
      text !== undefined ? [{ replacement: `[${text}]`, range: value.range }] : []);
  }
  checkItem(root, path, label, res, value, whole ? keyRange : undefined, ctx);
}

function checkItem(root: string, path: string, label: string, res: ResolvedElement, value: A.Expr, requiredAnchor: A.Range | undefined, ctx: BodyCheckContext): void {
  const { r } = ctx;
  if (res.types.length !== 1) return;
  const type = res.types[0]!;
  if (value.kind === 'literal' && value.value === null) return;
  const given = staticType(value, ctx);
  if (type === 'Resource' || isResourceType(type)) {
    // contained, Bundle.entry.resource: checked as the resourceType it names.
    if (value.kind === 'object') {
      const rt = value.entries.find((e) => e.key === 'resourceType');
      const name = rt && literalText(rt.value);
      if (name && isResourceType(name)) checkObject(name, '', name, value, undefined, ctx, true);
    }
    return;
  }
  if (!isPrimitiveType(type)) {
    if (value.kind === 'object') {
      checkObject(root, path, label, value, requiredAnchor, ctx);
      return;
    }
    if (given && given !== 'record' && given !== 'records' && given !== 'list' && given !== 'any') {
      const holder = TEXT_HOLDER[type];
      const text = r.textOf(value.range);
      const fix: Suggestion[] = holder && text !== undefined ? [{ replacement: `{ ${holder}: ${text} }`, range: value.range, label: `Wrap in { ${holder}: … }` }] : [];
      r.error('HDC4011', value.range, `${label} is ${a(type)}, not ${a(given!)}`,
        holder ? `Write an object: { ${holder}: … }${type === 'CodeableConcept' ? ', or { coding: [{ system: "…", code: "…" }] }' : ''}.` : `Write a ${type} object.`, fix);
    }
    return;
  }
  // A primitive.
  if (value.kind === 'object') {
    r.error('HDC4011', value.range, `${label} is ${a(type)}, not an object`, `Write a ${type} value.`);
    return;
  }
  if (value.kind === 'literal' || value.kind === 'template') {
    const v = value.kind === 'literal' ? value.value : literalText(value);
    const text = r.textOf(value.range);
    if (type === 'boolean' && typeof v !== 'boolean' && (value.kind === 'literal' || v !== undefined)) {
      const fix = v === 'true' || v === 'false' ? [{ replacement: String(v), range: value.range }] : [];
      r.error('HDC4011', value.range, `${label} is a boolean, not ${a(given!)}`, 'Write true or false, without quotes.', fix);
      return;
    }
    if (NUMERIC.has(type) && typeof v !== 'number' && (value.kind === 'literal' || v !== undefined)) {
      const fix = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? [{ replacement: v, range: value.range }] : [];
      r.error('HDC4011', value.range, `${label} is ${a(type)}, not ${a(given!)}`, 'Write a number without quotes, or number(x) for a value read as text.', fix);
      return;
    }
    if (!NUMERIC.has(type) && type !== 'boolean' && (typeof v === 'number' || typeof v === 'boolean')) {
      r.error('HDC4011', value.range, `${label} is ${a(type)}, not ${a(given!)}`, 'FHIR JSON writes this element as a "string".', text !== undefined ? [{ replacement: JSON.stringify(String(v)), range: value.range }] : []);
      return;
    }
  }
  const binding = requiredBinding(res.owner, res.element.path);
  if (!binding) return;
  const code = literalText(value);
  if (code !== undefined && !binding.codes.includes(code)) {
    const near = closest(code, binding.codes, 3);
    r.error('HDC4012', value.range, `"${code}" is not an allowed ${label} code`,
      `${label} has a required binding to ${binding.valueSet}: ${listCodes(binding.codes)}.${near.length ? ` Did you mean "${near[0]}"?` : ''}`,
      near.map((n) => ({ replacement: JSON.stringify(n), range: value.range })));
  }
  const mapName = value.kind === 'call' ? value.callee.name : value.kind === 'ref' ? ctx.mapOf?.(value.name) : undefined;
  if (mapName && ctx.mapOutputs) {
    const out = ctx.mapOutputs(mapName);
    const bad = out?.values.filter((v) => !binding.codes.includes(v)) ?? [];
    if (out && bad.length) {
      r.error('HDC4012', value.range, `map ${mapName} gives ${bad.map((b) => `"${b}"`).join(', ')}, which ${label} does not allow`,
        `${label} has a required binding to ${binding.valueSet}: ${listCodes(binding.codes)}. Fix map ${mapName} at line ${out.line}.`);
    }
  }
}

function checkRequired(root: string, base: string, label: string, obj: A.ObjectExpr, anchor: A.Range, ctx: BodyCheckContext): void {
  // The object's own children: resolve where its elements live (backbone element or data type).
  let owner = root;
  let ownerBase = base;
  if (base) {
    const res = resolveElementPath(root, base);
    if (!res.ok || res.open) return;
    if (res.element.contentReference) { owner = res.owner; ownerBase = res.element.contentReference; }
    else if (res.types[0] === 'BackboneElement' || res.types[0] === 'Element') { owner = res.owner; ownerBase = res.element.path; }
    else { owner = res.types[0]!; ownerBase = ''; }
  }
  const keys = obj.entries.map((e) => e.key);
  const missing = childElements(owner, ownerBase).filter((e) => {
    if (e.min < 1) return false;
    const name = e.path.slice(ownerBase ? ownerBase.length + 1 : 0);
    if (!name.endsWith('[x]')) return !keys.includes(name);
    const stem = name.slice(0, -3);
    return !keys.some((k) => k.startsWith(stem) && k.length > stem.length);
  }).map((e) => e.path.slice(ownerBase ? ownerBase.length + 1 : 0));
  if (missing.length) {
    ctx.r.error('HDC4013', anchor, `${label} is missing required ${missing.length > 1 ? 'elements' : 'element'} ${missing.join(', ')}`,
      `FHIR R4 requires ${missing.map((m) => `${label}.${m}`).join(', ')}; the server rejects the resource without ${missing.length > 1 ? 'them' : 'it'}.`);
  }
}

const a = (word: string) => (/^[aeio]|^u(?!ri|rl|ns|uid)/i.test(word) ? 'an ' : 'a ') + word;
const listCodes = (codes: string[]) => (codes.length > 12 ? codes.slice(0, 12).join(', ') + ', …' : codes.join(', '));

/** The text of a string without interpolations. */
function literalText(e: A.Expr): string | undefined {
  if (e.kind === 'literal') return typeof e.value === 'string' ? e.value : undefined;
  if (e.kind === 'template' && e.parts.every((p) => typeof p === 'string')) return e.parts.join('');
  return undefined;
}

function staticType(e: A.Expr, ctx: BodyCheckContext): ValueType | undefined {
  switch (e.kind) {
    case 'literal': return e.value === null ? undefined : typeof e.value === 'number' ? 'number' : typeof e.value === 'boolean' ? 'boolean' : 'string';
    case 'template': return 'string';
    case 'ref': return ctx.typeOf(e.name);
    case 'object': return 'record';
    case 'array': return 'list';
    default: return undefined;
  }
}
