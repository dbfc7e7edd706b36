// SMART on FHIR scope strings (App Launch 2.2, v1 and v2 syntax) and what they permit.
// Used by the auth server (to grant exact scope strings) and by the FHIR server (to enforce them).

export type ScopeContext = 'patient' | 'user' | 'system';
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface ClinicalScope {
  context: ScopeContext;
  /** A resource type or `*`. */
  type: string;
  permissions: Set<Interaction>;
  /** v2 granular constraint after `?`, kept verbatim. */
  query?: string;
}

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Parses `patient/Observation.rs`, `system/*.read`, `user/Patient.cruds?x=y`; null otherwise. */
export function parseClinicalScope(scope: string): ClinicalScope | null {
  const m = /^(patient|user|system)\/([A-Za-z]+|\*)\.([a-z*]+)(\?.*)?$/.exec(scope);
  if (!m) return null;
  const [, context, type, perm, query] = m;
  let letters = V1[perm];
  if (!letters) {
    // v2: a subset of c r u d s, in that order, each at most once.
    if (!/^c?r?u?d?s?$/.test(perm)) return null;
    letters = perm;
  }
  return {
    context: context as ScopeContext,
    type,
    permissions: new Set(letters.split('') as Interaction[]),
    query: query?.slice(1),
  };
}

/** True when a scope is one the SMART specification defines (clinical, launch, identity, refresh). */
export function isSmartScope(scope: string): boolean {
  return (
    parseClinicalScope(scope) !== null ||
    /^(launch|launch\/patient|launch\/encounter|openid|fhirUser|profile|offline_access|online_access)$/.test(scope)
  );
}

/** Does a granted scope string allow `interaction` on `type`? */
export function scopePermits(granted: string, type: string, interaction: Interaction): boolean {
  return granted
    .split(/\s+/)
    .map(parseClinicalScope)
    .some((s) => s !== null && (s.type === '*' || s.type === type) && s.permissions.has(interaction));
}
