// Semantic comparison of two FHIR Bundles (ours and FHIR-Converter's), as bench:hl7-fhir reports it:
// resources of the clinical types are matched by type and content, then their leaf values
// (path + value) are counted. Ignored: id, meta, narrative (text), and the target id of references
// (`Patient/123` compares as `Patient/`). Date-times compare as instants; a wall-clock match also
// counts, because the expected files give local HL7 times the offset of the machine they were made on.

export const CLINICAL_TYPES = ['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'ServiceRequest', 'Specimen', 'Condition',
  'Procedure', 'AllergyIntolerance', 'Immunization', 'MedicationRequest', 'MedicationDispense', 'Coverage', 'RelatedPerson',
  'Appointment', 'DocumentReference', 'ChargeItem'] as const;
const CLINICAL = new Set<string>(CLINICAL_TYPES);
const IGNORED = new Set(['id', 'meta', 'text']);
const DATETIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?$/;

interface Leaf { path: string; value: string; instant?: number; wall?: string }

function leaves(v: unknown, path: string, out: Leaf[]): Leaf[] {
  if (Array.isArray(v)) for (const x of v) leaves(x, path, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (IGNORED.has(k) && !path.includes('.')) continue;
      if (k === 'id' || k === 'div') continue;
      leaves(x, path ? `${path}.${k}` : k, out);
    }
  } else if (v !== null && v !== undefined) {
    let value = String(v);
    if (path.endsWith('reference')) value = value.replace(/\/[^/]+$/, '/');
    const leaf: Leaf = { path, value };
    const m = DATETIME.exec(value);
    if (m) {
      leaf.wall = `${m[1]}T${m[2]!.length === 5 ? m[2] + ':00' : m[2]}`.replace(/\.\d+$/, '');
      if (m[3]) leaf.instant = Date.parse(value);
    }
    out.push(leaf);
  }
  return out;
}

function sameLeaf(a: Leaf, b: Leaf): boolean {
  if (a.path !== b.path) return false;
  if (a.value === b.value) return true;
  if (a.instant !== undefined && a.instant === b.instant) return true;
  return a.wall !== undefined && a.wall === b.wall;
}

/** How many of `expected`'s leaves `actual` has (each leaf of actual used once). */
export function agreeing(expected: Leaf[], actual: Leaf[]): number {
  const byPath = new Map<string, Leaf[]>();
  for (const l of actual) {
    const list = byPath.get(l.path);
    if (list) list.push(l); else byPath.set(l.path, [l]);
  }
  let n = 0;
  for (const e of expected) {
    const list = byPath.get(e.path);
    if (!list) continue;
    const i = list.findIndex((a) => sameLeaf(e, a));
    if (i >= 0) { list.splice(i, 1); n++; }
  }
  return n;
}

export interface Comparison {
  expectedLeaves: number;
  actualLeaves: number;
  agreeingLeaves: number;
  expectedResources: number;
  matchedResources: number;
  byType: Record<string, { expected: number; matched: number; expectedLeaves: number; agreeingLeaves: number }>;
}

function clinicalResources(bundle: unknown): Array<{ type: string; leaves: Leaf[] }> {
  const entries = (bundle as { entry?: Array<{ resource?: { resourceType?: string } }> })?.entry ?? [];
  return entries.map((e) => e.resource).filter((r): r is { resourceType: string } => !!r && CLINICAL.has(r.resourceType ?? ''))
    .map((r) => ({ type: r.resourceType, leaves: leaves(r, '', []) }));
}

/**
 * Pairs each expected resource with one of ours of its type, greedily by the most agreeing leaves
 * (a pair needs at least one), then counts.
 */
export function compareBundles(expected: unknown, actual: unknown): Comparison {
  const exp = clinicalResources(expected);
  const act = clinicalResources(actual);
  const c: Comparison = { expectedLeaves: 0, actualLeaves: 0, agreeingLeaves: 0, expectedResources: exp.length, matchedResources: 0, byType: {} };
  for (const a of act) c.actualLeaves += a.leaves.length;
  const scores: Array<{ i: number; j: number; n: number }> = [];
  exp.forEach((e, i) => act.forEach((a, j) => {
    if (a.type !== e.type) return;
    const n = agreeing(e.leaves, a.leaves);
    if (n > 0) scores.push({ i, j, n });
  }));
  scores.sort((x, y) => y.n - x.n);
  const usedE = new Set<number>();
  const usedA = new Set<number>();
  const got = new Map<number, number>();
  for (const s of scores) {
    if (usedE.has(s.i) || usedA.has(s.j)) continue;
    usedE.add(s.i); usedA.add(s.j); got.set(s.i, s.n);
  }
  exp.forEach((e, i) => {
    const t = (c.byType[e.type] ??= { expected: 0, matched: 0, expectedLeaves: 0, agreeingLeaves: 0 });
    t.expected++;
    t.expectedLeaves += e.leaves.length;
    c.expectedLeaves += e.leaves.length;
    const n = got.get(i);
    if (n !== undefined) {
      t.matched++; c.matchedResources++;
      t.agreeingLeaves += n; c.agreeingLeaves += n;
    }
  });
  return c;
}
