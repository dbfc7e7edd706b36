// OAuth2 client credentials (client_secret_basic / client_secret_post) and SMART Backend Services
// (private_key_jwt, RS384/ES384) through openid-client. One token is cached per auth and shared by
// every concurrent run; only one token request is in flight at a time (single flight), and a
// token is renewed shortly before it expires. Tokens and secrets never appear in errors.
import * as oidc from 'openid-client';
import { WorkflowError } from '../workflow-error.ts';
import type { AuthProvider } from './auth-provider.ts';
import type { ClientKey } from './private-key.ts';
import { smartPrivateKeyJwt } from './smart-assertion.ts';
import { errorCode, isCertificateError } from '../http/tls-errors.ts';
import { DiscoveryError, discoverSmartConfiguration } from './smart-discovery.ts';
import { hasTls, tlsFetch, type TlsOptions } from './tls-fetch.ts';

export type ClientAuthentication =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | { method: 'private_key_jwt'; key: () => Promise<ClientKey> };

export interface ClientCredentialsOptions {
  /** The auth's name, used in messages. */
  name: string;
  clientId: string;
  auth: ClientAuthentication;
  scope?: string;
  /** Token endpoint; when absent it is discovered from `fhirBase`. */
  tokenUrl?: string;
  fhirBase?: string;
  /** CA / client certificate for the token endpoint and discovery (the API's `tls`). */
  tls?: TlsOptions;
  /** Renew this long before expiry (capped at a tenth of the token's lifetime). */
  renewBeforeMs?: number;
  /** Lifetime assumed when the server sends no expires_in. */
  defaultLifetimeMs?: number;
  /** Lifetime of a client assertion; SMART allows at most five minutes. */
  assertionLifetimeSec?: number;
  now?: () => number;
}

interface CachedToken {
  header: string;
  renewAt: number;
}

export class ClientCredentialsAuth implements AuthProvider {
  /** Token requests sent (for metrics and the benchmark). */
  tokenRequests = 0;
  private token?: CachedToken;
  private inflight?: Promise<CachedToken>;
  private config?: Promise<oidc.Configuration>;
  private readonly now: () => number;

  constructor(private readonly opts: ClientCredentialsOptions) {
    this.now = opts.now ?? Date.now;
  }

  async authorization(src?: string): Promise<string> {
    const t = this.token;
    if (t && this.now() < t.renewAt) return t.header;
    return (await this.fetchOnce(src)).header;
  }

  async refresh(refused: string, src?: string): Promise<boolean> {
    // Another run may already have replaced the refused token.
    if (this.token && this.token.header !== refused && this.now() < this.token.renewAt) return true;
    if (this.token?.header === refused) this.token = undefined;
    const fresh = await this.fetchOnce(src);
    return fresh.header !== refused;
  }

  /** Forgets the cached token (tests, key rotation). */
  reset(): void {
    this.token = undefined;
  }

  private fetchOnce(src?: string): Promise<CachedToken> {
    this.inflight ??= this.fetchToken(src).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchToken(src?: string): Promise<CachedToken> {
    const started = this.now();
    let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      const config = await this.configuration();
      this.tokenRequests++;
      response = await oidc.clientCredentialsGrant(config, this.opts.scope ? { scope: this.opts.scope } : {});
    } catch (err) {
      this.config = err instanceof DiscoveryError || isNetworkError(err) ? undefined : this.config;
      throw this.describe(err, src);
    }
    if (response.token_type?.toLowerCase() !== 'bearer') {
      throw new WorkflowError(`auth ${this.opts.name}: unsupported token type ${response.token_type}`, { transient: false, src });
    }
    const lifetime = (response.expires_in ?? 0) > 0 ? response.expires_in! * 1000 : (this.opts.defaultLifetimeMs ?? 300_000);
    const margin = Math.min(this.opts.renewBeforeMs ?? 30_000, lifetime / 10);
    const token = { header: `Bearer ${response.access_token}`, renewAt: started + lifetime - margin };
    this.token = token;
    return token;
  }

  private configuration(): Promise<oidc.Configuration> {
    this.config ??= this.buildConfiguration();
    return this.config;
  }

  private async buildConfiguration(): Promise<oidc.Configuration> {
    let tokenEndpoint = this.opts.tokenUrl;
    let issuer: string | undefined;
    if (!tokenEndpoint) {
      if (!this.opts.fhirBase) throw new DiscoveryError('no token URL and no FHIR base to discover it from', false);
      const smart = await discoverSmartConfiguration(this.opts.fhirBase, 10_000, this.opts.tls);
      tokenEndpoint = smart.token_endpoint;
      issuer = smart.issuer;
    }
    const endpoint = new URL(tokenEndpoint);
    if (endpoint.protocol !== 'https:' && !isLoopback(endpoint.hostname)) {
      throw new DiscoveryError(`token endpoint ${endpoint.origin} is not https`, false);
    }
    // Built by hand: SMART configurations often have no issuer, which discovery() insists on.
    const server: oidc.ServerMetadata = { issuer: issuer ?? endpoint.origin, token_endpoint: endpoint.href };
    const auth = this.opts.auth;
    let clientAuth: oidc.ClientAuth;
    if (auth.method !== 'private_key_jwt') {
      clientAuth = auth.method === 'client_secret_basic' ? oidc.ClientSecretBasic(auth.secret) : oidc.ClientSecretPost(auth.secret);
    } else {
      const key = await auth.key();
      clientAuth = smartPrivateKeyJwt(this.opts.clientId, key, endpoint.href, this.opts.assertionLifetimeSec ?? 240);
    }
    const config = new oidc.Configuration(server, this.opts.clientId, {}, clientAuth);
    if (endpoint.protocol === 'http:') oidc.allowInsecureRequests(config);
    if (hasTls(this.opts.tls)) config[oidc.customFetch] = tlsFetch(this.opts.tls);
    return config;
  }

  private describe(err: unknown, src?: string): WorkflowError {
    const what = `auth ${this.opts.name}: token request failed`;
    if (err instanceof WorkflowError) return err;
    if (err instanceof DiscoveryError) return new WorkflowError(`auth ${this.opts.name}: ${err.message}`, { transient: err.transient, src });
    const code = errorCode(err);
    if (isCertificateError(code)) return new WorkflowError(`${what}: TLS certificate not trusted (${code})`, { transient: false, src });
    if (err instanceof oidc.ResponseBodyError) {
      const transient = err.status >= 500 || err.status === 429;
      return new WorkflowError(`${what}: ${err.status} ${err.error}`, { transient, src, status: err.status });
    }
    if (err instanceof oidc.ClientError) return new WorkflowError(`${what}: ${err.code ?? 'client error'}`, { transient: false, src });
    if (isNetworkError(err)) return new WorkflowError(`${what}: ${code ?? (err as Error).name}`, { transient: true, src });
    // Includes non-JSON or 5xx answers surfaced as generic errors (e.g. WWW-Authenticate challenges).
    const status = (err as { status?: number })?.status;
    if (typeof status === 'number') return new WorkflowError(`${what}: ${status}`, { transient: status >= 500 || status === 429, src, status });
    return new WorkflowError(`${what}: ${(err as Error)?.name ?? 'error'}`, { transient: false, src });
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && /fetch failed/i.test(err.message) || (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'RequestError';
}
