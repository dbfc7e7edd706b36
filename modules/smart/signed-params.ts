// Signed redirect parameters: the receiving page can check that the values came from the
// connector, unchanged, recently, and for this page (a query signed for /forms/insured does not
// verify on /forms/self-pay). Scheme (docs/smart.md has verification snippets):
//   hdc_exp = expiry, Unix seconds
//   target = the page's origin and path, as URL.origin + URL.pathname (no query, no fragment),
//            e.g. "https://forms.example.org/insured"
//   query = every query pair except hdc_sig, each as encodeURIComponent(key) "="
//           encodeURIComponent(value), sorted (by UTF-16 code units), joined with "&"
//   hdc_sig = base64url(HMAC-SHA256(secret, target + "\n" + query))
import { createHmac, timingSafeEqual } from 'node:crypto';

export const EXPIRY_PARAM = 'hdc_exp';
export const SIGNATURE_PARAM = 'hdc_sig';

export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .filter(([k]) => k !== SIGNATURE_PARAM)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join('&');
}

/** The signed text: the target's origin and path, a newline, the canonical query. */
export function canonicalSigned(target: URL | string, pairs: Array<[string, string]>): string {
  const u = typeof target === 'string' ? new URL(target) : target;
  return `${u.origin}${u.pathname}\n${canonicalQuery(pairs)}`;
}

function mac(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('base64url');
}

/** Adds hdc_exp and hdc_sig to the pairs sent to `target`. */
export function signPairs(target: URL | string, pairs: Array<[string, string]>, secret: string, ttlSeconds: number, nowMs = Date.now()): Array<[string, string]> {
  const withExpiry: Array<[string, string]> = [...pairs, [EXPIRY_PARAM, String(Math.floor(nowMs / 1000) + ttlSeconds)]];
  return [...withExpiry, [SIGNATURE_PARAM, mac(secret, canonicalSigned(target, withExpiry))]];
}

export type Verification = { ok: true } | { ok: false; reason: 'missing' | 'bad-signature' | 'expired' };

/** What a receiving page does: recompute the signature over its own URL (origin, path, query) and check the expiry. */
export function verifySignedUrl(url: URL | string, secret: string, nowMs = Date.now()): Verification {
  const u = typeof url === 'string' ? new URL(url) : url;
  const params = u.searchParams;
  const sig = params.get(SIGNATURE_PARAM);
  const exp = params.get(EXPIRY_PARAM);
  if (!sig || !exp) return { ok: false, reason: 'missing' };
  const expected = Buffer.from(mac(secret, canonicalSigned(u, [...params])));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  if (!/^\d+$/.test(exp) || Number(exp) * 1000 < nowMs) return { ok: false, reason: 'expired' };
  return { ok: true };
}
