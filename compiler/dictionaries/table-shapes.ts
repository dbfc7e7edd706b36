// Shapes of the compact tables in generated/, written by generate.ts and read by hl7.ts and fhir.ts.
// Rows are tuples rather than objects: the files stay small and parse in a few milliseconds.
// generate.ts prints one row per line so that a dictionary update reads well in a diff.

/** Optionality as printed in the HL7 tables: required, optional, conditional, withdrawn. */
export type Hl7Optionality = 'R' | 'O' | 'C' | 'W' | 'B' | 'X';

/** A segment field or a data type component. maxRepetitions: 1 = not repeating, 0 = unbounded. */
export type Hl7FieldRow = [
  name: string,
  dataType: string,
  optionality: Hl7Optionality,
  maxRepetitions: number,
  length: number | null,
  table: number | null,
];

/** A message structure node: a segment or a named group with children. max 0 = unbounded. */
export type Hl7StructureRow = [name: string, min: number, max: number, children?: Hl7StructureRow[]];

export interface Hl7VersionTable {
  '//': string;
  version: string;
  segments: Record<string, { description: string; fields: Hl7FieldRow[] }>;
  /** Composite types have components; primitives an empty list. */
  dataTypes: Record<string, { description: string; components: Hl7FieldRow[] }>;
  /** Keyed by TYPE_TRIGGER (e.g. ADT_A04), or TYPE alone for the few the standard leaves event-free (ACK). */
  messages: Record<string, { description: string; structure: Hl7StructureRow[] }>;
  /** Message types and trigger events this version defines, with descriptions from HL7 tables 0076 and 0003. */
  messageTypes: Record<string, string>;
  triggerEvents: Record<string, string>;
}

/** Every message type and trigger event any version knows: HL7 tables 0076 and 0003 plus the versions' own. */
export interface Hl7CommonTable {
  '//': string;
  versions: string[];
  messageTypes: Record<string, string>;
  triggerEvents: Record<string, string>;
}

/** HL7 tables by four-digit number ("0001"): description and code → meaning. */
export interface Hl7ValueTables {
  '//': string;
  tables: Record<string, { description: string; values: Record<string, string> }>;
}

/**
 * An element of a resource or data type, path relative to the type (`name.given`).
 * types: FHIR type codes (`HumanName`, `Reference`, `string`); choice elements end in `[x]`.
 */
export type FhirElementRow = [
  path: string,
  types: string[],
  min: number,
  max: string,
  description: string,
  extra?: { targets?: string[]; contentReference?: string },
];

/** code, type, description, FHIRPath expression for this resource, reference targets. */
export type FhirSearchParamRow = [code: string, type: string, description: string, expression: string, targets?: string[]];

export interface FhirTypeTable {
  description: string;
  /** Resources only: derives from DomainResource (text, contained, extensions, `_text`). */
  domain?: boolean;
  elements: FhirElementRow[];
  searchParams?: FhirSearchParamRow[];
}

export interface FhirR4Table {
  '//': string;
  fhirVersion: string;
  resources: Record<string, FhirTypeTable>;
  /** Complex data types, plus the abstract Resource and DomainResource. */
  complexTypes: Record<string, FhirTypeTable>;
  primitiveTypes: Record<string, string>;
  /** SearchParameters whose base is Resource (all types) or DomainResource (all but Bundle, Binary, Parameters). */
  resourceSearchParams: FhirSearchParamRow[];
  domainResourceSearchParams: FhirSearchParamRow[];
}

/**
 * Required bindings (fhir-r4-bindings.json), kept apart from fhir-r4.json so that only body checks
 * read it. elements: type → element path → value set URL; valueSets: URL → system → codes.
 */
export interface FhirBindingsTable {
  '//': string;
  elements: Record<string, Record<string, string>>;
  valueSets: Record<string, Record<string, string[]>>;
}
