// FHIR R4 checks on reads of step results: `patient.totl` on a search (a Bundle),
// `obs.valueQuantity.valu`, `found.entry[0].resource.birthDat` — every element named after a FHIR
// step's result must exist on the resource or data type reached so far (choice elements such as
// value[x] understood, typed `valueQuantity` or untyped `value`). One diagnostic per path, on the
// first unknown name, with the closest element names as quick fixes.
import type * as A from '../syntax/ast.ts';
import type { Declaration } from './symbols.ts';
import type { Reporter } from './reporter.ts';
import { isResourceType, resolveElementPath, resourceTypes } from '../dictionaries/fhir.ts';

/** Verbs whose result is the resource (or, for search, a Bundle of it). */
const RETURNS_RESOURCE = new Set(['read', 'search', 'create', 'update', 'patch']);

interface Segment { name: string; range: A.Range; indexed: boolean }

/** Checks `e` (a member/index chain on a step named by decl); does nothing for other names. */
export function checkFhirResultPath(decl: Declaration, e: A.Expr, r: Reporter): void {
  if (decl.kind !== 'step' || !decl.resourceType || !isResourceType(decl.resourceType)) return;
  const verb = decl.detail?.split(' ')[0] ?? '';
  if (!RETURNS_RESOURCE.has(verb)) return;
  const segments = segmentsOf(e);
  // `$status`, `$headers`: every step result's own fields.
  if (!segments.length || segments[0]!.name.startsWith('$')) return;
  const base = decl.search ? 'Bundle' : decl.resourceType;
  const path = segments.map((s) => s.name + (s.indexed ? '[0]' : '')).join('.');
  const res = resolveElementPath(base, path, decl.resourceType);
  if (res.ok) return;
  const bad = segments[res.at];
  if (!bad) return;
  // A search may include other resources (_include): past entry.resource, a path any resource
  // type has is accepted.
  const resourceStep = decl.search ? segments.findIndex((s, i) => s.name === 'resource' && segments[i - 1]?.name === 'entry') : -1;
  if (resourceStep >= 0 && res.at > resourceStep) {
    const rest = segments.slice(resourceStep + 1).map((s) => s.name + (s.indexed ? '[0]' : '')).join('.');
    if (resourceTypes().some((t) => t !== decl.resourceType && resolveElementPath(t, rest).ok)) return;
  }
  const message = res.message.replace(/; did you mean .*$/, '');
  r.error('HDC4020', bad.range, `${message} (reading "${decl.name}", the result of ${decl.detail})`,
    res.suggestions.length ? `Did you mean ${res.suggestions.map((s) => `"${s}"`).join(', ')}?` : `See the elements in the FHIR R4 specification; a search's result is a Bundle (${decl.name}.entry[0].resource is the ${decl.resourceType}).`,
    res.suggestions.map((s) => ({ replacement: s, range: bad.range })));
}

/** The names read after the step's name, with their ranges; an index marks the name it follows. */
function segmentsOf(e: A.Expr): Segment[] {
  const out: Segment[] = [];
  let node = e;
  let indexed = false;
  while (node.kind === 'member' || node.kind === 'index') {
    if (node.kind === 'index') indexed = true;
    else {
      out.unshift({ name: node.property.name, range: node.property.range, indexed });
      indexed = false;
    }
    node = node.object;
  }
  return out;
}
