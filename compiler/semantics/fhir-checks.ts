// FHIR R4 checks on steps: resource types and search parameter names.
import type * as A from '../syntax/ast.ts';
import type { Reporter } from './reporter.ts';
import { checkResourceType, checkSearchParam } from '../dictionaries/fhir.ts';

export function checkFhirType(type: A.Ident, r: Reporter): boolean {
  const c = checkResourceType(type.name);
  if (c.ok) return true;
  r.error('HDC4001', type.range, c.message.replace(/; did you mean .*$/, ''), c.suggestions.length ? `Did you mean ${c.suggestions.join(', ')}?` : 'Use an R4 resource type such as Patient or Observation.',
    c.suggestions.slice(0, 1).map((s) => ({ replacement: s, range: type.range })));
  return false;
}

export function checkSearchParamName(type: string, code: string, range: A.Range, r: Reporter): void {
  if (checkResourceType(type).ok === false) return;
  const c = checkSearchParam(type, code);
  if (c.ok) return;
  r.error('HDC4002', range, c.message.replace(/; did you mean .*$/, ''), c.suggestions.length ? `Did you mean ${c.suggestions.join(', ')}?` : `See the search parameters of ${type}.`,
    c.suggestions.slice(0, 1).map((s) => ({ replacement: s, range })));
}
