// The EHR authorization servers a launch talks to, one per FHIR base (iss): discovered from
// `{iss}/.well-known/smart-configuration` (relative endpoints resolved against the FHIR base;
// `issuer` may be absent: then the authorization server's own metadata names it), cached with a
// TTL, and turned into an openid-client Configuration with the launch's client authentication
// (client_secret_basic, private_key_jwt or none).
import * as oidc from 'openid-client';
import type { Launch } from '../../plan/plan.types.ts';
import { DiscoveryError, discoverSmartConfiguration } from '../../runtime/workflows/auth/smart-discovery.ts';
import { loadClientKey, type ClientKey } from '../../runtime/workflows/auth/private-key.ts';
import { smartPrivateKeyJwt } from '../../runtime/workflows/auth/smart-assertion.ts';
import type { ValueResolver } from '../../runtime/workflows/resolve-value.ts';
import { LaunchError } from './launch-error.ts';
import { IdTokenKeys } from './id-token-keys.ts';
import { findIssuerMetadata } from './issuer-metadata.ts';

export interface SmartServer {
  fhirBase: string;
  config: oidc.Configuration;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** The authorization server's issuer (smart-configuration, else its own metadata); absent when neither names it. */
  issuer?: string;
  /** Where the issuer came from, for the log. */
  issuerFrom?: string;
  /** The id_token signature keys, when a jwks_uri is known. */
  idTokenKeys?: IdTokenKeys;
  /** The same client with another expected issuer (the callback's RFC 9207 `iss` when nothing else names it). */
  configFor(issuer: string): oidc.Configuration;
  capabilities: string[];
}

export interface SmartServersOptions {
  resolve: ValueResolver;
  ttlMs?: number;
  now?: () => number;
  /** Injected discovery (tests of `hdc test`); default: HTTP GET of the well-known document. */
  discover?: (fhirBase: string) => Promise<Record<string, unknown>>;
  /** Least time between two JWKS refetches for an unknown kid (default 10 s). */
  jwksCooldownMs?: number;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** https, or http on a loopback address (tests and local peers). */
export function assertSecureUrl(url: URL, what: string, src?: string): void {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return;
  throw new LaunchError(`${what} ${url.origin} is not https`, { status: 502, src });
}

export class SmartServers {
  private readonly cache = new Map<string, { at: number; server: Promise<SmartServer> }>();
  private key?: Promise<ClientKey>;
  private readonly now: () => number;

  constructor(
    private readonly launch: Launch,
    private readonly opts: SmartServersOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get(fhirBase: string): Promise<SmartServer> {
    const hit = this.cache.get(fhirBase);
    if (hit && this.now() - hit.at < (this.opts.ttlMs ?? 300_000)) return hit.server;
    const server = this.build(fhirBase);
    this.cache.set(fhirBase, { at: this.now(), server });
    // A failed discovery is not cached: the next launch tries again.
    server.catch(() => {
      if (this.cache.get(fhirBase)?.server === server) this.cache.delete(fhirBase);
    });
    return server;
  }

  private async build(fhirBase: string): Promise<SmartServer> {
    const src = this.launch.src;
    let doc: Record<string, unknown>;
    try {
      doc = this.opts.discover ? await this.opts.discover(fhirBase) : await discoverSmartConfiguration(fhirBase);
    } catch (err) {
      const why = err instanceof DiscoveryError ? err.message : `SMART discovery failed: ${(err as Error)?.message ?? err}`;
      throw new LaunchError(`launch ${this.launch.name}: ${why}`, { status: 502, src, cause: err });
    }
    const base = fhirBase.endsWith('/') ? fhirBase : fhirBase + '/';
    const url = (v: unknown, what: string): URL => {
      if (typeof v !== 'string') throw new LaunchError(`launch ${this.launch.name}: smart-configuration of ${fhirBase} has no ${what}`, { status: 502, src });
      const u = new URL(v, base);
      assertSecureUrl(u, what, src);
      return u;
    };
    const authorization = url(doc.authorization_endpoint, 'authorization_endpoint');
    const token = url(doc.token_endpoint, 'token_endpoint');
    const methods = Array.isArray(doc.code_challenge_methods_supported) ? doc.code_challenge_methods_supported : undefined;
    if (methods && !methods.includes('S256')) {
      throw new LaunchError(`launch ${this.launch.name}: ${fhirBase} does not support PKCE S256`, { status: 502, src });
    }
    let issuer = typeof doc.issuer === 'string' ? doc.issuer : undefined;
    let issuerFrom = issuer ? 'smart-configuration' : undefined;
    let jwksUri = typeof doc.jwks_uri === 'string' ? url(doc.jwks_uri, 'jwks_uri').href : undefined;
    // The id_token's iss is the authorization server's issuer: without one in the
    // smart-configuration, ask the server's own metadata (only when an id_token will come).
    if (!issuer && /(^|\s)openid(\s|$)/.test(this.launch.scope) && !this.opts.discover) {
      const found = await findIssuerMetadata(fhirBase, token.href);
      if (found) {
        issuer = found.issuer;
        issuerFrom = found.from;
        if (!jwksUri && found.jwksUri) jwksUri = url(found.jwksUri, 'jwks_uri').href;
      }
    }
    const clientId = this.opts.resolve(this.launch.clientId);
    const auth = await this.clientAuth(token.href);
    const configFor = (iss: string): oidc.Configuration => {
      const metadata: oidc.ServerMetadata = {
        issuer: iss,
        authorization_endpoint: authorization.href,
        token_endpoint: token.href,
        code_challenge_methods_supported: ['S256'],
      };
      const config = new oidc.Configuration(metadata, clientId, {}, auth);
      if ([authorization, token].some((u) => u.protocol === 'http:')) oidc.allowInsecureRequests(config);
      return config;
    };
    // Without any issuer the callback's RFC 9207 `iss` (when sent) is used per callback; the
    // placeholder only serves the authorization URL.
    const config = configFor(issuer ?? token.origin);
    return {
      fhirBase: fhirBase.replace(/\/$/, ''),
      config,
      configFor,
      authorizationEndpoint: authorization.href,
      tokenEndpoint: token.href,
      ...(issuer ? { issuer, issuerFrom } : {}),
      // id_token signatures are checked against the server's keys when it publishes them.
      ...(jwksUri ? { idTokenKeys: new IdTokenKeys(jwksUri, { ...(this.opts.jwksCooldownMs !== undefined ? { cooldownMs: this.opts.jwksCooldownMs } : {}) }) } : {}),
      capabilities: Array.isArray(doc.capabilities) ? doc.capabilities.filter((c): c is string => typeof c === 'string') : [],
    };
  }

  private async clientAuth(tokenEndpoint: string): Promise<oidc.ClientAuth> {
    const l = this.launch;
    if (l.privateKey !== undefined) {
      this.key ??= loadClientKey(this.opts.resolve(l.privateKey), l.alg ?? 'RS384', l.kid !== undefined ? this.opts.resolve(l.kid) : undefined);
      let key: ClientKey;
      try {
        key = await this.key;
      } catch (err) {
        this.key = undefined;
        throw new LaunchError(`launch ${l.name}: the private key cannot be read (${(err as Error).message})`, { status: 500, src: l.src });
      }
      return smartPrivateKeyJwt(this.opts.resolve(l.clientId), key, tokenEndpoint);
    }
    if (l.clientSecret !== undefined) return oidc.ClientSecretBasic(this.opts.resolve(l.clientSecret));
    return oidc.None();
  }
}
