// Loads the client's private key for SMART Backend Services (private_key_jwt): a PKCS#8 PEM, a
// private JWK, or a JWKS of private keys (the one with the configured `kid`, else the one for the
// algorithm: its `alg`, or its key type — RSA for RS384, EC P-384 for ES384). The `kid` is the configured one, else the JWK's own, else the RFC 7638 thumbprint
// of the public key (what a JWKS built from the same key would carry).
import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, type JWK } from 'jose';

export type SigningAlg = 'RS384' | 'ES384';

export interface ClientKey {
  key: CryptoKey;
  kid: string;
  alg: SigningAlg;
}

export async function loadClientKey(material: string, alg: SigningAlg, kid?: string): Promise<ClientKey> {
  const text = material.trim();
  let key: CryptoKey;
  let jwk: JWK;
  if (text.startsWith('{')) {
    jwk = pickJwk(JSON.parse(text) as JWK | { keys?: JWK[] }, alg, kid);
    if (!jwk.d) throw new Error('the JWK is not a private key');
    key = (await importJWK({ ...jwk, ext: true }, alg, { extractable: true })) as CryptoKey;
  } else {
    key = await importPKCS8(text, alg, { extractable: true });
    jwk = await exportJWK(key);
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  const id = kid ?? jwk.kid ?? (await calculateJwkThumbprint(publicJwk, 'sha256'));
  // Signing only needs a non-extractable key; drop the extractable copy.
  const signing = text.startsWith('{')
    ? ((await importJWK({ ...jwk, ext: false }, alg, { extractable: false })) as CryptoKey)
    : await importPKCS8(text, alg);
  return { key: signing, kid: id, alg };
}

/** The private key to sign with: the JWK itself, or the JWKS member chosen by kid, else by alg. */
export function pickJwk(doc: JWK | { keys?: JWK[] }, alg: SigningAlg, kid?: string): JWK {
  if (!('keys' in doc) || !Array.isArray(doc.keys)) return doc as JWK;
  const keys = doc.keys.filter((k) => k && typeof k === 'object' && k.d);
  if (!keys.length) throw new Error('the JWKS holds no private key');
  if (kid !== undefined) {
    const byKid = keys.find((k) => k.kid === kid);
    if (!byKid) throw new Error(`the JWKS has no private key with kid ${JSON.stringify(kid)} (kids: ${keys.map((k) => JSON.stringify(k.kid ?? null)).join(', ')})`);
    return byKid;
  }
  const fits = (k: JWK) => (k.alg ? k.alg === alg : alg === 'RS384' ? k.kty === 'RSA' : k.kty === 'EC' && k.crv === 'P-384');
  const matching = keys.filter(fits);
  if (matching.length === 1) return matching[0]!;
  if (!matching.length) throw new Error(`the JWKS has no private key for ${alg}`);
  throw new Error(`the JWKS has ${matching.length} private keys for ${alg}: set kid to choose one`);
}
