// `smart launch NAME extends BASE { … }`: one launch reuses another (eight EHR clients need not be
// eight copies). What the block writes wins; what it leaves out comes from BASE: each setting by
// key (client_id, client_secret, private_key, scope, issuers, targets, sign, …), and the login,
// fetch, map and redirect blocks whole. BASE may extend another launch; it must be in the same
// file (its lines then stay right in diagnostics and plan `src`), and chains may not loop.
import type * as A from '../syntax/ast.ts';
import type { Reporter } from './reporter.ts';

/** The block with its base's parts filled in (the block itself when it extends nothing). */
export function withBase(d: A.LaunchDecl, decls: A.Decl[], r: Reporter): A.LaunchDecl {
  if (!d.extends) return d;
  const launches = new Map(decls.filter((x): x is A.LaunchDecl => x.kind === 'launch').map((x) => [x.name.name, x]));
  const chain: A.LaunchDecl[] = [];
  let at: A.LaunchDecl = d;
  while (at.extends) {
    const base = launches.get(at.extends.name);
    if (!base) {
      const known = [...launches.keys()].filter((n) => n !== d.name.name);
      r.error('HDC5011', at.extends.range, `smart launch ${at.name.name} extends "${at.extends.name}", which is not a launch of this file`,
        known.length ? `Launches in this file: ${known.join(', ')}. A base launch must be declared in the same file.` : 'Declare the base launch in the same file.');
      break;
    }
    if (base === d || chain.includes(base)) {
      r.error('HDC5011', at.extends.range, `smart launch ${d.name.name} extends itself through ${[d, ...chain].map((x) => x.name.name).join(' → ')} → ${base.name.name}`,
        'Break the cycle: a launch may extend another, never itself.');
      break;
    }
    chain.push(base);
    at = base;
  }
  let merged: A.LaunchDecl = d;
  for (const base of chain) merged = mergeInto(merged, base);
  return merged;
}

function mergeInto(child: A.LaunchDecl, base: A.LaunchDecl): A.LaunchDecl {
  const own = new Set(child.settings.map((s) => s.key.name));
  return {
    ...child,
    settings: [...child.settings, ...base.settings.filter((s) => !own.has(s.key.name))],
    ...(child.login || !base.login ? {} : { login: base.login }),
    ...(child.fetchRange || !base.fetchRange ? {} : { fetch: base.fetch, fetchRange: base.fetchRange }),
    ...(child.map || !base.map ? {} : { map: base.map }),
    ...(child.redirect || !base.redirect ? {} : { redirect: base.redirect }),
  };
}

/**
 * The reporter for lowering a block that extends another: what the inherited parts provoke was
 * already reported when the base itself was lowered, so only diagnostics inside the block stay.
 */
export function ownDiagnostics(d: A.LaunchDecl, r: Reporter): Reporter {
  if (!d.extends) return r;
  const own = r.for(r.file);
  own.report = (severity, code, range, summary, detail, suggestions) => {
    if (range.start.offset >= d.range.start.offset && range.end.offset <= d.range.end.offset) r.report(severity, code, range, summary, detail, suggestions);
  };
  return own;
}
