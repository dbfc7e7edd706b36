// Checks FHIR request bodies against the R4 StructureDefinitions (@medplum/core's validator) before
// they are sent, so an invalid body fails its step with every problem listed and the .hdc line,
// instead of a server's 400 (or worse, a server that stores it).
//
// Nothing is loaded until a body is first validated; then the datatypes, and each resource type's
// definition the first time a body holds that type (fhir-definitions.ts), so a runtime that never
// validates pays nothing and one that does holds only the definitions it uses.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { readDatatypeDefinitions, readResourceDefinitions } from './fhir-definitions.ts';

type Core = typeof import('@medplum/core');

export interface FhirProblem {
  severity: string;
  code: string;
  /** FHIRPath of the element, e.g. Patient.name[0].given[0]. */
  expression: string;
  text: string;
}

let core: Core | undefined;
let typesIndexed = false;
/** Types looked for and not found in the definitions: never read the file again for them. */
const unknownTypes = new Set<string>();

/** Every resourceType in the body: the resource itself, contained resources, Bundle entries, Parameters. */
function resourceTypesIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) resourceTypesIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'resourceType' && typeof v === 'string') out.add(v);
      else if (typeof v === 'object') resourceTypesIn(v, out);
    }
  }
  return out;
}

async function ready(types: Set<string>): Promise<Core> {
  core ??= await import('@medplum/core');
  if (!typesIndexed) {
    core.indexStructureDefinitionBundle(readDatatypeDefinitions());
    typesIndexed = true;
  }
  const missing = [...types].filter((t) => /^[A-Z][A-Za-z]+$/.test(t) && !unknownTypes.has(t) && !core!.isDataTypeLoaded(t));
  if (missing.length) {
    core.indexStructureDefinitionBundle(readResourceDefinitions(missing));
    for (const t of missing) if (!core.isDataTypeLoaded(t)) unknownTypes.add(t);
  }
  return core;
}

/** The problems of a resource (errors only; warnings do not stop a request). Empty when it is valid. */
export async function validateFhirResource(resource: Record<string, unknown>): Promise<FhirProblem[]> {
  const c = await ready(resourceTypesIn(resource));
  let issues: OperationOutcomeIssue[];
  try {
    issues = c.validateResource(resource as unknown as Resource);
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue) throw err;
    issues = outcome.issue;
  }
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => ({ severity: i.severity, code: i.code, expression: i.expression?.join(', ') ?? '', text: i.details?.text ?? i.diagnostics ?? i.code }));
}

/** One line per problem: `Patient.birthDate: Invalid date format`. */
export function describeProblems(problems: FhirProblem[]): string {
  return problems.map((p) => (p.expression ? `${p.expression}: ${p.text}` : p.text)).join('; ');
}
