// Required bindings of FHIR R4 elements, with the codes they allow (fhir-r4-bindings.json). Read on
// first use only: the body checks and value maps need it, completion and hover do not.
import { readTable } from './read-table.ts';
import type { FhirBindingsTable } from './table-shapes.ts';

export interface RequiredBinding {
  valueSet: string;
  /** Every allowed code, in the value set's order. */
  codes: string[];
  /** The code systems the codes come from. */
  systems: string[];
}

const table = () => readTable<FhirBindingsTable>('fhir-r4-bindings.json');
const bindings = new Map<string, RequiredBinding>();

/** The required binding of an element (`owner` a resource or data type, `path` relative to it), when the codes are known. */
export function requiredBinding(owner: string, path: string): RequiredBinding | undefined {
  const url = table().elements[owner]?.[path];
  return url ? valueSetCodes(url) : undefined;
}

function valueSetCodes(url: string): RequiredBinding | undefined {
  let b = bindings.get(url);
  if (!b) {
    const bySystem = table().valueSets[url];
    if (!bySystem) return undefined;
    b = { valueSet: url, codes: [...new Set(Object.values(bySystem).flat())], systems: Object.keys(bySystem) };
    bindings.set(url, b);
  }
  return b;
}

/** The codes a code system defines, as far as the required value sets list them; undefined for an unknown system. */
export function codeSystemCodes(system: string): string[] | undefined {
  const codes = new Set<string>();
  let known = false;
  for (const bySystem of Object.values(table().valueSets)) {
    const list = bySystem[system];
    if (!list) continue;
    known = true;
    for (const c of list) codes.add(c);
  }
  return known ? [...codes] : undefined;
}

/** Code systems that required bindings use, for "did you mean" on a map's target. */
export function knownCodeSystems(): string[] {
  return [...new Set(Object.values(table().valueSets).flatMap((s) => Object.keys(s)))].sort();
}
