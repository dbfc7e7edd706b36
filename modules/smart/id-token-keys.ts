// The id_token's signature, checked against the authorization server's JWKS. openid-client
// checks its claims (issuer, audience, expiry, nonce); the signature is checked here so that a
// key the EHR has just rotated in is found: an unknown `kid` refetches the JWKS once, and not
// again before `cooldownMs` (a flood of forged kids cannot turn into a flood of fetches).
import { createRemoteJWKSet, customFetch, jwtVerify, errors as joseErrors } from 'jose';

export interface IdTokenKeysOptions {
  /** Least time between two JWKS fetches caused by unknown kids (default 10 s). */
  cooldownMs?: number;
  /** How long a fetched JWKS is used without asking again (default 10 minutes). */
  maxAgeMs?: number;
}

export class IdTokenKeys {
  private readonly jwks;
  fetches = 0;

  constructor(readonly jwksUri: string, opts: IdTokenKeysOptions = {}) {
    this.jwks = createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: opts.cooldownMs ?? 10_000,
      cacheMaxAge: opts.maxAgeMs ?? 600_000,
      timeoutDuration: 10_000,
      [customFetch]: (url, init) => {
        this.fetches++;
        return fetch(url, init);
      },
    });
  }

  /** Verifies the signature (and issuer, audience); throws IdTokenSignatureError. */
  async verify(idToken: string, issuer: string, audience: string): Promise<void> {
    try {
      await jwtVerify(idToken, this.jwks, { issuer, audience, clockTolerance: 30 });
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new IdTokenSignatureError(`no key in ${new URL(this.jwksUri).origin}'s JWKS matches the id_token's kid (refetched once)`, err);
      if (err instanceof joseErrors.JOSEError) throw new IdTokenSignatureError(`id_token refused: ${err.code}: ${err.message}`, err);
      throw new IdTokenSignatureError(`the JWKS could not be read: ${(err as Error)?.message ?? err}`, err);
    }
  }
}

export class IdTokenSignatureError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'IdTokenSignatureError';
  }
}
