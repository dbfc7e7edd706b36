// Binds a sender to its client certificate: the plan's Identity names a subject RDN sequence,
// a subjectAltName or a SHA-256 fingerprint, and only a certificate that chains to the client CA
// (checked by TLS) and carries it may post as that sender.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Identity } from '../../../plan/plan.types.ts';

export interface PeerCertificateFacts {
  /** Subject RDNs as "KEY=value" with upper-case keys, e.g. ["CN=labcorp", "O=LabCorp"]. */
  subject: string[];
  /** subjectAltName entries, lower-case type prefix: "dns:x", "uri:x", "email:x", "ip:x". */
  san: string[];
  /** Upper-case hex without colons. */
  fingerprint256: string;
}

const facts = new WeakMap<TLSSocket, PeerCertificateFacts | null>();

/** The verified client certificate of a TLS connection (cached per connection), or null. */
export function verifiedPeerCertificate(socket: TLSSocket): PeerCertificateFacts | null {
  const cached = facts.get(socket);
  if (cached !== undefined) return cached;
  let result: PeerCertificateFacts | null = null;
  if (socket.authorized) {
    const peer = socket.getPeerCertificate(false);
    if (peer && peer.raw) result = certificateFacts(new X509Certificate(peer.raw));
  }
  facts.set(socket, result);
  return result;
}

export function certificateFacts(cert: X509Certificate): PeerCertificateFacts {
  return {
    subject: splitDn(cert.subject, '\n'),
    san: (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean).map(normaliseSan),
    fingerprint256: cert.fingerprint256.replace(/:/g, '').toUpperCase(),
  };
}

function normaliseSan(entry: string): string {
  const i = entry.indexOf(':');
  const type = entry.slice(0, i).trim().toLowerCase().replace('ip address', 'ip');
  return `${type}:${entry.slice(i + 1).trim()}`;
}

function splitDn(dn: string, sep: string | RegExp): string[] {
  return dn.split(sep).map((r) => r.trim()).filter(Boolean).map((rdn) => {
    const i = rdn.indexOf('=');
    return i < 0 ? rdn : `${rdn.slice(0, i).trim().toUpperCase()}=${rdn.slice(i + 1).trim()}`;
  });
}

/** Splits "CN=a, O=b" (or "CN=a/O=b") into RDNs, honouring backslash-escaped commas. */
function parseSubjectPattern(pattern: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) { cur += pattern[++i]; continue; }
    if (ch === ',' || ch === '/' ) { parts.push(cur); cur = ''; continue; }
    cur += ch;
  }
  parts.push(cur);
  return splitDn(parts.join('\n'), '\n');
}

const parsedSubjects = new Map<string, string[]>();
function subjectPattern(pattern: string): string[] {
  let p = parsedSubjects.get(pattern);
  if (!p) parsedSubjects.set(pattern, (p = parseSubjectPattern(pattern)));
  return p;
}

/** True when the certificate satisfies every criterion the identity names (at least one is required). */
export function certificateMatchesIdentity(identity: Identity, cert: PeerCertificateFacts): boolean {
  if (identity.kind !== 'client_cert') return false;
  if (!identity.subject && !identity.san && !identity.fingerprint) return false;
  if (identity.subject) {
    const want = subjectPattern(identity.subject);
    if (!want.every((rdn) => cert.subject.includes(rdn))) return false;
  }
  if (identity.san) {
    const s = identity.san.trim();
    const wanted = s.includes(':') && /^(dns|uri|email|ip):/i.test(s)
      ? [normaliseSan(s)] : ['dns', 'uri', 'email', 'ip'].map((t) => `${t}:${s}`);
    if (!wanted.some((w) => cert.san.some((have) => have.toLowerCase() === w.toLowerCase()))) return false;
  }
  if (identity.fingerprint) {
    if (identity.fingerprint.replace(/[:\s]/g, '').toUpperCase() !== cert.fingerprint256) return false;
  }
  return true;
}

export type CertificateProblemReason = 'certificate-untrusted' | 'certificate-expired' | 'certificate-not-yet-valid' | 'certificate-invalid';

export interface CertificateProblem {
  /** Stable reason code for the log line. */
  reason: CertificateProblemReason;
  /** One sentence for the partner (the 401 body); no OpenSSL wording. */
  text: string;
}

// OpenSSL verification results that mean "not issued by the configured client CA".
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'CERT_CHAIN_TOO_LONG', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
]);

const day = (text: string | undefined): string => {
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : 'unknown';
};

/**
 * Why a client certificate that was presented did not verify (null when none was presented or it
 * verified). The handshake never fails on these (senders with Basic auth share the listener), so
 * the per-sender identity check answers 401 with this text every time.
 */
export function peerCertificateProblem(socket: TLSSocket): CertificateProblem | null {
  if (!socket.encrypted || socket.authorized) return null;
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) return null;
  const code = String(socket.authorizationError ?? '');
  if (code === 'CERT_HAS_EXPIRED') {
    return { reason: 'certificate-expired', text: `the client certificate expired on ${day(peer.valid_to)}: ask for a renewed one` };
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return { reason: 'certificate-not-yet-valid', text: `the client certificate is not valid before ${day(peer.valid_from)}` };
  }
  if (UNTRUSTED.has(code)) {
    return { reason: 'certificate-untrusted', text: 'the client certificate was not issued by the CA this endpoint trusts (--client-ca)' };
  }
  return { reason: 'certificate-invalid', text: `the client certificate could not be verified (${code || 'unknown reason'})` };
}
