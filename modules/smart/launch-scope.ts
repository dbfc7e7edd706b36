// Scopes and launch context. EHR launch asks for the block's scopes with `launch`; standalone has
// no launch to bind, so `launch` becomes `launch/patient` (the patient picked at the EHR) unless
// the block already asks for launch/patient or launch/encounter itself.
const OPTIONAL = new Set(['openid', 'fhirUser', 'profile', 'email', 'offline_access', 'online_access', 'launch', 'launch/patient', 'launch/encounter']);

export function launchScope(scope: string, kind: 'ehr' | 'standalone'): string {
  const words = scope.split(/\s+/).filter(Boolean);
  if (kind === 'ehr') return (words.includes('launch') ? words : ['launch', ...words]).join(' ');
  const hasContext = words.some((w) => w.startsWith('launch/'));
  const out = words.filter((w) => w !== 'launch');
  if (!hasContext) out.unshift('launch/patient');
  return out.join(' ');
}

/**
 * Requested resource scopes the server did not grant (servers may grant less than asked).
 * v1 and v2 spellings of the same permission count as granted: patient/X.read covers patient/X.rs.
 */
export function missingScopes(requested: string, granted: string): string[] {
  const have = new Set(granted.split(/\s+/).filter(Boolean).map(normalise));
  return requested.split(/\s+/).filter((s) => s && !OPTIONAL.has(s) && !have.has(normalise(s)));
}

function normalise(scope: string): string {
  const m = /^(patient|user|system)\/([A-Za-z*]+)\.(read|write|\*|[cruds]+)(\?.*)?$/.exec(scope);
  if (!m) return scope;
  const perms = m[3] === 'read' ? 'rs' : m[3] === 'write' ? 'cud' : m[3] === '*' ? 'cruds' : m[3]!;
  return `${m[1]}/${m[2]}.${perms}${m[4] ?? ''}`;
}

export const CONTEXT_KEYS = ['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant'] as const;

/** The SMART launch context of a token response (what `context.*` reads in the .hdc). */
export function readLaunchContext(tokenResponse: Record<string, unknown>): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  for (const k of CONTEXT_KEYS) if (tokenResponse[k] !== undefined) ctx[k] = tokenResponse[k];
  return ctx;
}
