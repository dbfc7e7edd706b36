// `patch API Type ID body { … }`: each member of the body sets one top-level element of the
// resource (a JSON Patch `add`). The members are checked against the FHIR R4 definition of the
// type when the body is written as an object.
import type * as A from '../syntax/ast.ts';
import type { Reporter } from './reporter.ts';
import { checkResourceType, childElements, resolveElementPath } from '../dictionaries/fhir.ts';
import { closest } from '../dictionaries/closest.ts';

/** Elements a patch may not set: the server owns them, or they identify the resource. */
const FIXED = ['resourceType', 'id'];

export function checkPatchBody(type: string, body: A.Expr | undefined, r: Reporter): void {
  if (!body || body.kind !== 'object' || !checkResourceType(type).ok) return;
  if (body.entries.length === 0) {
    r.error('HDC4015', body.range, 'a patch body sets nothing', 'Name the elements to set: body { telecom: …, address: … }');
    return;
  }
  for (const en of body.entries) {
    if (FIXED.includes(en.key)) {
      r.error('HDC4015', en.keyRange, `a patch cannot set ${en.key}`, `The ${en.key} of the patched resource is given by the step; remove "${en.key}".`);
      continue;
    }
    if (/[.[\]]/.test(en.key)) {
      r.error('HDC4015', en.keyRange, `"${en.key}" is not a top-level element`, 'A patch sets whole top-level elements: write the element (name: [...]) with its full value.');
      continue;
    }
    const found = resolveElementPath(type, en.key);
    if (found.ok) continue;
    const names = childElements(type, '', { expandChoices: true }).map((e) => e.path).filter((n) => !FIXED.includes(n));
    const near = closest(en.key, names, 1);
    r.error('HDC4010', en.keyRange, `${type} has no element ${en.key}`, near.length ? `Did you mean ${near[0]}?` : `See the elements of ${type}.`,
      near.map((n) => ({ replacement: n, range: en.keyRange })));
  }
}
