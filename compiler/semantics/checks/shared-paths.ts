// HDC3009: senders sharing a path whose identities and MSH predicates cannot tell them apart.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';

// ---- senders sharing a path --------------------------------------------------------------------
/** Where a predicate reads: MSH-4 and MSH-4.1 read the same value (the first leaf). */
function predicateKey(p: P.Hl7Path): string {
  return `${p.segment}-${p.field ?? 0}[${p.fieldRep ?? 1}].${p.component ?? 1}.${p.subcomponent ?? 1}`;
}

/** False only when some MSH position the two senders both test cannot satisfy both. */
function predicatesOverlap(a: P.MshPredicate[], b: P.MshPredicate[]): boolean {
  for (const pa of a) {
    for (const pb of b) {
      if (predicateKey(pa.path) !== predicateKey(pb.path)) continue;
      if (pa.op === '==' && pb.op === '==' && !pa.values.some((v) => pb.values.includes(v))) return false;
      if (pa.op === '==' && pb.op === '!=' && pa.values.every((v) => pb.values.includes(v))) return false;
      if (pa.op === '!=' && pb.op === '==' && pb.values.every((v) => pa.values.includes(v))) return false;
    }
  }
  return true;
}

/** Two identities no single request can present (different Basic users, fingerprints or subjects). */
function identitiesExclusive(a: P.Identity, b: P.Identity): boolean {
  if (a.kind !== b.kind) return a.kind !== 'none' && b.kind !== 'none';
  if (a.kind === 'basic') return typeof a.user === 'string' && typeof b.user === 'string' && a.user !== b.user;
  if (a.kind === 'client_cert') {
    const fp = (x?: string) => x?.replace(/:/g, '').toLowerCase();
    if (a.fingerprint && b.fingerprint && fp(a.fingerprint) !== fp(b.fingerprint)) return true;
    // "CN=lab" and "CN=clinic": one certificate subject does not hold both.
    return !!a.subject && !!b.subject && !a.subject.includes(b.subject) && !b.subject.includes(a.subject);
  }
  return false;
}

/** A sender's declaration beside what it lowered to. */
export interface LoweredSender { d: A.SenderDecl; file: string; sender: P.Sender }

/**
 * HDC3009: senders on one path are told apart by identity, then by their MSH predicates; the
 * first that matches decodes the body (charset, line_endings, max_body). Warn when two could match
 * the same message, so the second's settings would never apply to it.
 */
export function warnSharedPaths(lowered: LoweredSender[], root: Reporter): void {
  const senders = lowered.map((x) => x.sender);
  const norm = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  for (let j = 1; j < senders.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = senders[i]!;
      const b = senders[j]!;
      if (norm(a.path) !== norm(b.path) || identitiesExclusive(a.identity, b.identity) || !predicatesOverlap(a.match, b.match)) continue;
      const decl = lowered[j]!;
      const pathSetting = decl.d.settings.find((x) => x.key.name === 'path');
      root.for(decl.file).warning('HDC3009', pathSetting?.range ?? decl.d.name.range,
        `senders ${a.name} and ${b.name} share the path "${b.path}" and their match predicates can both hold for one message`,
        `${a.name}, declared first, takes such a message and decodes it with its own charset, line_endings and max_body. Tell them apart with a match on the MSH (e.g. match MSH-4 == "…"), or give each its own path.`);
      break;
    }
  }
}
