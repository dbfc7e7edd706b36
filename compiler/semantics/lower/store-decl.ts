// `store postgres env("DATABASE_URL")` / `store sqlite`: where the runtime keeps its journal and
// workflow queue. PostgreSQL lets several runtimes share one database. The URL carries a password,
// so it is a reference (env() or file()); a literal is accepted only without one.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import { toValue } from '../settings.ts';
import { closest } from '../../dictionaries/closest.ts';

const KINDS = ['postgres', 'sqlite'] as const;
const HINT = 'Write: store postgres env("DATABASE_URL"), or store sqlite (the embedded default).';

export function lowerStore(d: A.StoreDecl, file: string, r: Reporter, src: (range: A.Range) => string, prior: P.Store | undefined): P.Store | undefined {
  if (prior) {
    r.error('HDC8305', d.range, 'the store is declared twice', `A project has one store; the first is at ${prior.src}. Remove one of them.`);
    return undefined;
  }
  const kind = d.storeKind.name;
  if (!(KINDS as readonly string[]).includes(kind)) {
    const near = closest(kind, [...KINDS], 2);
    r.error('HDC8301', d.storeKind.range, `unknown store "${kind}"`, near.length ? `Did you mean "${near[0]}"? ${HINT}` : HINT,
      near.map((n) => ({ replacement: n, range: d.storeKind.range })));
    return undefined;
  }
  if (kind === 'sqlite') {
    if (d.url) {
      r.error('HDC8306', d.url.range, 'store sqlite takes no URL', 'The SQLite file lives in the runtime\'s data directory (hdc run --data DIR). Remove the value.');
      return undefined;
    }
    return { kind: 'sqlite', src: src(d.range) };
  }
  if (!d.url) {
    r.error('HDC8302', d.range, 'store postgres needs the database URL', HINT);
    return undefined;
  }
  const u = d.url;
  if (u.kind !== 'string' && u.kind !== 'env' && u.kind !== 'file') {
    r.error('HDC8303', u.range, 'the database URL must be a string, env() or file()', HINT);
    return undefined;
  }
  if (u.kind === 'string') {
    if (!/^postgres(ql)?:\/\//.test(u.value)) {
      r.error('HDC8304', u.range, 'not a PostgreSQL URL', 'The URL starts with postgres:// (e.g. postgres://hdc@db.example.org:5432/hdc). Better: env("DATABASE_URL").');
      return undefined;
    }
    let password = false;
    try {
      password = new URL(u.value).password !== '';
    } catch {
      // an unparsable URL is reported by the runtime when it connects
    }
    if (password) {
      r.error('HDC8303', u.range, 'the database URL holds a password: secrets never go in a plan',
        'Put the URL in the environment and write: store postgres env("DATABASE_URL").');
      return undefined;
    }
  }
  return { kind: 'postgres', url: toValue(u, file, src), src: src(d.range) };
}

/**
 * Runtimes sharing a PostgreSQL store hand a launch to one another between its requests (the
 * EHR's callback may reach another runtime than the launch), so each launch needs a session key
 * every runtime has; a per-process random one could not open what another runtime sealed.
 */
export function checkLaunchesShareKeys(store: P.Store | undefined, launches: readonly P.Launch[], files: readonly A.SourceFile[], reporterFor: (file: string) => Reporter): void {
  if (store?.kind !== 'postgres') return;
  const unkeyed = new Set(launches.filter((l) => l.sessionKey === undefined).map((l) => l.name));
  for (const f of files) {
    for (const d of f.decls) {
      if (d.kind !== 'launch' || !unkeyed.has(d.name.name)) continue;
      reporterFor(f.file).error('HDC8307', d.name.range, `smart launch ${d.name.name} has no session_key, and its runtimes share a PostgreSQL store`,
        `A launch may come back to another runtime, which must open what the first sealed: add session_key env("SMART_SESSION_KEY") with the same value on every runtime (the store is at ${store.src}).`);
    }
  }
}
