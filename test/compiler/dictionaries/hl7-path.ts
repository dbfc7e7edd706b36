// Builds plan Hl7Path objects from their text (PID-3[2].4.1, OBX[*]-5) for the dictionary tests.
import type { Hl7Path } from '../../../plan/plan.types.ts';

export function hl7Path(text: string): Hl7Path {
  const m = /^([A-Z][A-Z0-9]{2})(?:\[(\d+|\*)\])?(?:-(\d+)(?:\[(\d+|\*)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$/.exec(text);
  if (!m) throw new Error(`not an HL7 path: ${text}`);
  const rep = (r: string | undefined) => (r === undefined ? undefined : r === '*' ? ('*' as const) : Number(r));
  const path: Hl7Path = { text, segment: m[1]! };
  if (m[2] !== undefined) path.segmentRep = rep(m[2]);
  if (m[3] !== undefined) path.field = Number(m[3]);
  if (m[4] !== undefined) path.fieldRep = rep(m[4]);
  if (m[5] !== undefined) path.component = Number(m[5]);
  if (m[6] !== undefined) path.subcomponent = Number(m[6]);
  return path;
}
