// The id_token's signature, checked against the authorization server's JWKS. openid-client
// checks its claims (issuer, audience, expiry, nonce); the signature is checked here so that a
// key the EHR has just rotated in is found: an id_token whose `kid` is not in the cached JWKS
// refetches it once, and such refetches happen at most once per `cooldownMs` (a flood of forged
// kids cannot become a flood of fetches). The cached JWKS is also renewed after `maxAgeMs`.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JSONWebKeySet } from 'jose';

export interface IdTokenKeysOptions {
  /** Least time between two refetches caused by unknown kids (default 10 s). */
  cooldownMs?: number;
  /** How long a fetched JWKS is used without asking again (default 10 minutes). */
  maxAgeMs?: number;
  now?: () => number;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

export class IdTokenKeys {
  /** JWKS fetches so far (tests, diagnostics). */
  fetches = 0;
  private cached?: { at: number; kids: Set<string>; keys: KeySet };
  private inflight?: Promise<NonNullable<IdTokenKeys['cached']>>;
  private lastUnknownKidFetch = -Infinity;
  private readonly now: () => number;

  constructor(readonly jwksUri: string, private readonly opts: IdTokenKeysOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Verifies the signature (and issuer, audience); throws IdTokenSignatureError. */
  async verify(idToken: string, issuer: string, audience: string): Promise<void> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(idToken).kid;
    } catch (err) {
      throw new IdTokenSignatureError('the id_token has no readable header', err);
    }
    let set = await this.keys(false);
    if (kid !== undefined && !set.kids.has(kid) && this.now() - this.lastUnknownKidFetch >= (this.opts.cooldownMs ?? 10_000)) {
      this.lastUnknownKidFetch = this.now();
      set = await this.keys(true);
    }
    try {
      await jwtVerify(idToken, set.keys, { issuer, audience, clockTolerance: 30 });
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey) {
        throw new IdTokenSignatureError(`no key in ${new URL(this.jwksUri).origin}'s JWKS matches the id_token's kid ${JSON.stringify(kid ?? null)} (refetched at most once per cooldown)`, err);
      }
      if (err instanceof joseErrors.JOSEError) throw new IdTokenSignatureError(`id_token refused: ${err.code}: ${err.message}`, err);
      throw new IdTokenSignatureError(`the JWKS could not be read: ${(err as Error)?.message ?? err}`, err);
    }
  }

  private async keys(fresh: boolean): Promise<NonNullable<IdTokenKeys['cached']>> {
    if (!fresh && this.cached && this.now() - this.cached.at < (this.opts.maxAgeMs ?? 600_000)) return this.cached;
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<NonNullable<IdTokenKeys['cached']>> {
    this.fetches++;
    let jwks: JSONWebKeySet;
    try {
      const res = await fetch(this.jwksUri, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`${this.jwksUri} answered ${res.status}`);
      jwks = (await res.json()) as JSONWebKeySet;
      if (!Array.isArray(jwks?.keys)) throw new Error(`${this.jwksUri} is not a JWKS`);
    } catch (err) {
      throw new IdTokenSignatureError(`the JWKS could not be read: ${(err as Error)?.message ?? err}`, err);
    }
    this.cached = { at: this.now(), kids: new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')), keys: createLocalJWKSet(jwks) };
    return this.cached;
  }
}

export class IdTokenSignatureError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'IdTokenSignatureError';
  }
}
