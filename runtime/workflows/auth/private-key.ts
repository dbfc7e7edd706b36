// Loads the client's private key for SMART Backend Services (private_key_jwt): a PKCS#8 PEM or a
// private JWK. The `kid` is the configured one, else the JWK's own, else the RFC 7638 thumbprint
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
    jwk = JSON.parse(text) as JWK;
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
