// Key pairs and SMART Backend Services client assertions for tests (RS384 / ES384), plus the
// signing keys of the oidc-provider peers. RSA generation is slow, so keys are cached per process.
import { randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type AssertionAlg = 'RS384' | 'ES384' | 'RS256' | 'ES256';

export interface TestKeyPair {
  alg: AssertionAlg;
  kid: string;
  privateKey: CryptoKey;
  /** Private key as PKCS#8 PEM (what a `file(...)` key reference would hold). */
  privatePem: string;
  privateJwk: JWK;
  /** Public JWK with `kid`, `alg` and `use` set: put it in a client's `jwks.keys`. */
  publicJwk: JWK;
}

const cache = new Map<string, Promise<TestKeyPair>>();

/** A key pair; the same `name` gives the same pair within a process. */
export function testKeyPair(alg: AssertionAlg, name = 'default'): Promise<TestKeyPair> {
  const key = `${alg}:${name}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${name}-${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
      return { alg, kid, privateKey, privatePem: await exportPKCS8(privateKey), privateJwk, publicJwk };
    })();
    cache.set(key, p);
  }
  return p;
}

/**
 * A SMART Backend Services client assertion: header `alg`, `kid`, `typ: JWT`; claims
 * `iss` = `sub` = client id, `aud` = token endpoint, `exp` ≤ 5 min, unique `jti`.
 */
export async function smartClientAssertion(
  key: TestKeyPair,
  clientId: string,
  tokenEndpoint: string,
  overrides: { aud?: string; expiresIn?: number; typ?: string | null } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const header: { alg: string; kid: string; typ?: string } = { alg: key.alg, kid: key.kid };
  if (overrides.typ !== null) header.typ = overrides.typ ?? 'JWT';
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(overrides.aud ?? tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + (overrides.expiresIn ?? 240))
    .setJti(randomUUID())
    .sign(key.privateKey);
}
