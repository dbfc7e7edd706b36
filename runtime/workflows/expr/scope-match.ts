// SMART scopes compared as permissions, for `has_scope(…)`: v1 `.read`/`.write`/`.*` are v2
// `.rs`/`.cud`/`.cruds`; a granted `patient/*.rs` covers `patient/Coverage.rs`; a granted
// `.cruds` covers an asked `.rs`; a granted scope narrowed by `?param=value` covers only the same
// narrowing. Other scopes (openid, launch, offline_access, …) compare as exact strings.
interface ResourceScope {
  context: string;
  type: string;
  perms: Set<string>;
  query: string;
}

function parse(scope: string): ResourceScope | undefined {
  const m = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)(\?.*)?$/.exec(scope);
  if (!m || m[3] === '') return undefined;
  const perms = m[3] === 'read' ? 'rs' : m[3] === 'write' ? 'cud' : m[3] === '*' ? 'cruds' : m[3]!;
  return { context: m[1]!, type: m[2]!, perms: new Set(perms), query: m[4] ?? '' };
}

/** True when one of the granted scopes covers the asked one. */
export function scopeGranted(granted: readonly string[], asked: string): boolean {
  const want = parse(asked);
  if (!want) return granted.includes(asked);
  return granted.some((g) => {
    const have = parse(g);
    if (!have || have.context !== want.context) return false;
    if (have.type !== '*' && have.type !== want.type) return false;
    if (have.query && have.query !== want.query) return false;
    return [...want.perms].every((p) => have.perms.has(p));
  });
}

/** Granted scopes given as a list or as one space-separated text. */
export function scopeList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : [];
}
