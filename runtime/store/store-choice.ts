// Which database holds the runtime's shared state: SQLite in the data directory (the embedded
// default) or PostgreSQL (several runtimes on one database). The plan's `store` wins over
// `hdc run --store URL`, so a reviewed plan decides where its messages go.

export type StoreChoice =
  | { kind: 'sqlite' }
  | { kind: 'postgres'; url: string; from: 'plan' | 'flag' };

/** The plan's store (its URL already resolved), else the flag's, else SQLite. */
export function chooseStore(plan: { kind: 'sqlite' | 'postgres'; url?: string } | undefined, flagUrl: string | undefined): StoreChoice {
  if (plan?.kind === 'postgres' && plan.url) return { kind: 'postgres', url: plan.url, from: 'plan' };
  if (plan?.kind === 'sqlite') return { kind: 'sqlite' };
  if (flagUrl) {
    if (!/^postgres(ql)?:\/\//.test(flagUrl)) throw new Error(`--store takes a postgres:// URL, not ${redactUrl(flagUrl)}`);
    return { kind: 'postgres', url: flagUrl, from: 'flag' };
  }
  return { kind: 'sqlite' };
}

/** The URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
