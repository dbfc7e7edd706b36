// Links from hovers to the specification page of the version in use: HL7 v2 segments, fields and
// message types by version (Caristix's HL7 v2 reference, one page per item and version), FHIR R4
// resources, elements and search parameters (hl7.org).
import type { Hl7Path } from '../plan/plan.types.ts';

const HL7 = 'https://hl7-definition.caristix.com/v2';
const FHIR_R4 = 'https://hl7.org/fhir/R4';

export function hl7SegmentLink(version: string, segment: string): string {
  return `${HL7}/HL7v${version}/Segments/${segment}`;
}

/** The field's page (components are described there), or the segment's for a bare segment. */
export function hl7PathLink(version: string, path: Hl7Path): string {
  return path.field ? `${HL7}/HL7v${version}/Fields/${path.segment}.${path.field}` : hl7SegmentLink(version, path.segment);
}

export function hl7MessageLink(version: string, code: string, trigger: string): string {
  return `${HL7}/HL7v${version}/TriggerEvents/${code}_${trigger}`;
}

export function fhirResourceLink(type: string): string {
  return `${FHIR_R4}/${type.toLowerCase()}.html`;
}

/** The page anchors write a choice element `value[x]` as `value_x_`. */
const anchor = (path: string) => path.replace(/\[x\]/g, '_x_');

/** `Patient.name.given`: the element's row on the resource's definitions page. */
export function fhirElementLink(type: string, path: string): string {
  return `${FHIR_R4}/${type.toLowerCase()}-definitions.html#${anchor(path)}`;
}

export function fhirSearchLink(type: string): string {
  return `${FHIR_R4}/${type.toLowerCase()}.html#search`;
}

/** A markdown link line for a hover. */
export const linkLine = (label: string, url: string): string => `[${label}](${url})`;

/** An element of a FHIR datatype (HumanName.given): the datatypes' definitions page. */
export function fhirDatatypeElementLink(type: string, path: string): string {
  return `${FHIR_R4}/datatypes-definitions.html#${anchor(`${type}.${path}`)}`;
}
