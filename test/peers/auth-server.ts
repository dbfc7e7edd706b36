// OAuth 2.0 / SMART on FHIR authorization server for tests: oidc-provider configured as an EHR's
// authorization server. Client credentials (client_secret_basic, client_secret_post,
// private_key_jwt RS384/ES384 as in SMART Backend Services), and SMART App Launch (authorization
// code + PKCE S256, `aud` and `launch` parameters, exact SMART scope strings, launch context in
// the token response, refresh tokens with offline_access, id_token with fhirUser).
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { testKeyPair } from './client-keys.ts';
import { listenLoopback, type TlsKeyPair } from './listen.ts';
import {
  interactionHandler,
  oidcRequestListener,
  escapeHtml,
  type InteractionMode,
  type PeerUser,
} from './oidc-interactions.ts';
import { smartConfigurationFor } from './smart-configuration.ts';
import { parseClinicalScope } from './smart-scopes.ts';

export type { InteractionMode, PeerUser } from './oidc-interactions.ts';
export { smartConfigurationFor } from './smart-configuration.ts';

export interface ClientSpec {
  clientId: string;
  /** Confidential symmetric client (client_secret_basic unless `auth` says otherwise). */
  clientSecret?: string;
  /** Public keys for private_key_jwt, inline (oidc-provider refuses loopback jwks_uri). */
  jwks?: { keys: JWK[] };
  /** Defaults: `private_key_jwt` with `jwks`, `client_secret_basic` with a secret, `none` otherwise. */
  auth?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** Pins the client assertion algorithm (otherwise RS384, ES384, RS256, ES256... are accepted). */
  assertionAlg?: 'RS384' | 'ES384' | 'RS256' | 'ES256';
  /** Redirect URIs; a client with redirect URIs may use the authorization code flow. */
  redirectUris?: string[];
  /** Clinical scopes this client may receive (exact strings); default: any well-formed SMART scope. */
  allowedScopes?: string[];
}

export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: Array<{ reference?: string; canonical?: string; identifier?: unknown; type?: string; role?: string }>;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  intent?: string;
  tenant?: string;
  /** Username of the EHR user who launched (informational). */
  user?: string;
}

export interface AuthUser extends PeerUser {
  /** FHIR resource of the user, relative (`Practitioner/123`) or absolute; becomes the `fhirUser` claim. */
  fhirUser?: string;
}

export interface AuthServerOptions {
  /** The FHIR base URL: the audience (resource indicator) of every access token. */
  fhirBase?: string;
  clients: ClientSpec[];
  /** Access token lifetime in seconds (default 300; e.g. 5 in expiry tests). */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds (default 1 day). */
  refreshTokenTtl?: number;
  users?: AuthUser[];
  /** EHR launch contexts known at start, by launch id (more with `registerLaunch`). */
  launchContexts?: Record<string, LaunchContext>;
  /** Standalone launch with `launch/patient`: the patient chosen when no picker is used. */
  defaultPatient?: string;
  /** Standalone launch: patients offered by the picker on the consent page. */
  patients?: Array<{ id: string; name?: string }>;
  /** `form` (default): login + consent pages; `auto`: sign in `autoUser` and approve; `deny`. */
  interaction?: InteractionMode;
  /** User signed in by the `auto` mode (default: the first user). */
  autoUser?: string;
  /** Enforce the SMART client assertion rules (aud = token endpoint, typ JWT, exp ≤ 5 min); default true. */
  strictAssertions?: boolean;
  tls?: TlsKeyPair;
}

export interface VerifiedToken {
  scope: string;
  clientId: string;
  sub?: string;
  patient?: string;
  exp: number;
  claims: Record<string, unknown>;
}

export interface AuthServer {
  /** e.g. `http://127.0.0.1:40125` (no trailing slash). */
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  jwksUri: string;
  introspectionEndpoint: string;
  /** The FHIR base the tokens are for. */
  fhirBase: string;
  /** `.well-known/smart-configuration` content (serve it from the FHIR server with `attachAuth`). */
  smartConfiguration: Record<string, unknown>;
  /** Verifies a JWT access token locally (cached keys): signature, issuer, audience, expiry. */
  verifyAccessToken(token: string): Promise<VerifiedToken | null>;
  /** POSTs to the token endpoint so far (all grant types, failed ones included). */
  readonly tokenRequests: number;
  /** Token endpoint requests by grant type. */
  readonly tokenRequestsByGrant: Record<string, number>;
  registerLaunch(launchId: string, ctx: LaunchContext): void;
  setInteraction(mode: InteractionMode): void;
  /** Signs with a new key from now on (its JWKS lists only the new key); returns the new kid. */
  rotateSigningKey(): Promise<string>;
  provider: Provider;
  close(): Promise<void>;
}

/** OIDC/SMART scopes that are not resource (clinical) scopes. */
const OIDC_SCOPES = [
  'openid',
  'fhirUser',
  'profile',
  'email',
  'offline_access',
  'online_access',
  'launch',
  'launch/patient',
  'launch/encounter',
];

function clientMetadata(c: ClientSpec): ClientMetadata {
  const auth = c.auth ?? (c.jwks ? 'private_key_jwt' : c.clientSecret ? 'client_secret_basic' : 'none');
  const redirects = c.redirectUris ?? [];
  const grants: string[] = [];
  if (redirects.length) grants.push('authorization_code', 'refresh_token');
  if (auth !== 'none') grants.push('client_credentials');
  const meta: ClientMetadata = {
    client_id: c.clientId,
    token_endpoint_auth_method: auth,
    redirect_uris: redirects,
    response_types: redirects.length ? ['code'] : [],
    grant_types: grants,
  };
  if (c.clientSecret) meta.client_secret = c.clientSecret;
  if (c.jwks) meta.jwks = c.jwks as ClientMetadata['jwks'];
  if (c.assertionAlg) meta.token_endpoint_auth_signing_alg = c.assertionAlg;
  return meta;
}

const clinicalScopes = (scope: unknown): string[] =>
  typeof scope === 'string' ? scope.split(' ').filter((s) => parseClinicalScope(s) !== null) : [];

export async function startAuthServer(opts: AuthServerOptions): Promise<AuthServer> {
  const listening = await listenLoopback(opts.tls);
  const issuer = listening.origin;
  const fhirBase = (opts.fhirBase ?? `${issuer}/fhir`).replace(/\/$/, '');
  const ttl = opts.accessTokenTtl ?? 300;
  const users = opts.users ?? [];
  const clients = new Map(opts.clients.map((c) => [c.clientId, c]));
  const launches = new Map(Object.entries(opts.launchContexts ?? {}));
  const grantContexts = new Map<string, LaunchContext>();
  const codeContexts = new Map<string, LaunchContext>();
  let mode: InteractionMode = opts.interaction ?? 'form';
  let tokenRequests = 0;
  const tokenRequestsByGrant: Record<string, number> = {};
  const tokenEndpoint = `${issuer}/token`;
  const strict = opts.strictAssertions ?? true;

  let signing = await testKeyPair('RS256', 'auth-server');
  const publicJwks = { keys: [signing.publicJwk] };
  let rotations = 0;

  const absoluteFhirUser = (u?: string) => (u && !/^https?:/.test(u) ? `${fhirBase}/${u}` : u);

  const configuration: Configuration = {
    clients: opts.clients.map(clientMetadata),
    jwks: { keys: [signing.privateJwk as never] },
    cookies: { keys: ['peer-auth-server-cookie-key'] },
    findAccount: async (_ctx, sub) => {
      const user = users.find((u) => u.username === sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({
          sub,
          ...user.claims,
          ...(user.fhirUser ? { fhirUser: absoluteFhirUser(user.fhirUser) } : {}),
        }),
      };
    },
    claims: {
      openid: ['sub'],
      fhirUser: ['fhirUser'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    scopes: OIDC_SCOPES,
    // SMART apps read fhirUser from the id_token of the code flow, not from userinfo.
    conformIdTokenClaims: false,
    extraParams: ['launch', 'aud'],
    pkce: { required: () => true },
    responseTypes: ['code'],
    clientBasedCORS: () => true,
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384', 'EdDSA', 'HS256'],
    },
    assertJwtClientAuthClaimsAndHeader: async (_ctx, claims, header) => {
      if (!strict) return;
      if (claims.aud !== tokenEndpoint && !(Array.isArray(claims.aud) && claims.aud.includes(tokenEndpoint))) {
        throw new errors.InvalidClientAuth('aud must be the token endpoint URL');
      }
      if (header.typ !== undefined && header.typ !== 'JWT') {
        throw new errors.InvalidClientAuth('typ must be JWT');
      }
      const exp = claims.exp as number;
      if (exp - Math.floor(Date.now() / 1000) > 300 + 5) {
        throw new errors.InvalidClientAuth('exp must be at most 5 minutes in the future');
      }
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // SMART clients send `aud` (the FHIR base) instead of RFC 8707 `resource`.
        defaultResource: async (ctx, _client, oneOf) => {
          if (oneOf) return oneOf;
          const aud = ctx.oidc.params?.aud;
          return typeof aud === 'string' ? aud.replace(/\/$/, '') : fhirBase;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (indicator.replace(/\/$/, '') !== fhirBase) {
            throw new errors.InvalidTarget(`unknown audience ${indicator}`);
          }
          // Scopes are granted as exact strings: whatever well-formed SMART scope was asked for
          // (or granted before), limited by the client's allow-list.
          const grant = ctx.oidc.entities.Grant;
          const asked = new Set([
            ...clinicalScopes(ctx.oidc.params?.scope),
            ...clinicalScopes(grant?.resources?.[indicator]),
          ]);
          const allowed = clients.get(client.clientId)?.allowedScopes;
          const scope = [...asked].filter((s) => !allowed || allowed.includes(s)).join(' ');
          return {
            scope,
            audience: fhirBase,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const grantId = 'grantId' in token ? (token.grantId as string | undefined) : undefined;
      const ctx = grantId ? grantContexts.get(grantId) : undefined;
      return ctx?.patient ? { patient: ctx.patient } : undefined;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: opts.refreshTokenTtl ?? 86400,
      Interaction: 600,
      Session: 3600,
      Grant: 86400,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><body><h1>Error</h1><p id="error">${escapeHtml(String(out.error))}</p><p>${escapeHtml(String(out.error_description ?? ''))}</p></body></html>`;
    },
  };

  // One provider per signing key: a rotation builds a new one (grants live in oidc-provider's
  // shared memory adapter, so launches started before the rotation still complete).
  function buildProvider() {
    const provider = new Provider(issuer, { ...configuration, jwks: { keys: [signing.privateJwk as never] } });

    provider.use(async (ctx: KoaContextWithOIDC, next) => {
      // oidc-provider drops offline_access unless prompt=consent, which SMART apps never send;
      // asking for consent explicitly keeps the scope (the consent step runs anyway).
      if (ctx.path === '/auth' && ctx.method === 'GET') {
        const q = ctx.query;
        if (typeof q.scope === 'string' && q.scope.split(' ').includes('offline_access') && q.prompt === undefined) {
          ctx.query = { ...q, prompt: 'consent' };
        }
      }
      const isToken = ctx.path === '/token' && ctx.method === 'POST';
      if (isToken) tokenRequests++;
      await next();
      if (!isToken) {
        // The launch context belongs to the authorization request that produced the code: one
        // browser may run several launches on one grant (two tabs, two patients).
        const location = ctx.response.get('location');
        const code = location ? new URL(location, issuer).searchParams.get('code') : null;
        if (code) {
          const launchId = ctx.oidc?.params?.launch as string | undefined;
          const grantId = ctx.oidc?.entities?.Grant?.jti;
          const context = launchId !== undefined ? launches.get(launchId) : grantId ? grantContexts.get(grantId) : undefined;
          if (context) codeContexts.set(code, context);
        }
        return;
      }
      const gty = ctx.oidc?.params?.grant_type as string | undefined;
      if (gty) tokenRequestsByGrant[gty] = (tokenRequestsByGrant[gty] ?? 0) + 1;
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.status !== 200 || !body?.access_token) return;
      const grant = ctx.oidc.entities.Grant;
      const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
      if (grant && source) {
        // oidc-provider reports only the resource scopes of the access token; SMART clients
        // expect every granted scope (openid, launch/patient, offline_access, ...).
        const granted = new Set([
          ...String(grant.openid?.scope ?? '').split(' '),
          ...String(body.scope ?? '').split(' '),
        ]);
        const requested = String(source.scope ?? '').split(' ');
        const scope = [...new Set([...requested.filter((s) => granted.has(s)), ...String(body.scope ?? '').split(' ')])]
          .filter(Boolean)
          .join(' ');
        body.scope = scope;
        const code = ctx.oidc.params?.code as string | undefined;
        const launch = (code ? codeContexts.get(code) : undefined) ?? (grant.jti ? grantContexts.get(grant.jti) : undefined);
        if (code && launch && grant.jti) grantContexts.set(grant.jti, launch);
        if (launch) {
          const { user: _user, ...context } = launch;
          Object.assign(body, context);
        }
      }
    });

    const interactions = interactionHandler({
      provider,
      users,
      title: 'EHR sign-in',
      mode: () => mode,
      autoUser: () => opts.autoUser ?? users[0]?.username,
      fillGrant(grant, params) {
        const requested = String(params.scope ?? '').split(' ');
        grant.addOIDCScope(requested.filter((s) => OIDC_SCOPES.includes(s)).join(' '));
        const clinical = clinicalScopes(params.scope);
        const resource = (typeof params.resource === 'string' ? params.resource : fhirBase).replace(/\/$/, '');
        if (clinical.length) grant.addResourceScope(resource, clinical.join(' '));
      },
      beforeConsent(params) {
        const launch = params.launch as string | undefined;
        if (launch !== undefined && !launches.has(launch)) {
          return { error: 'invalid_request', errorDescription: 'unknown launch' };
        }
        const wantsPatient = String(params.scope ?? '').split(' ').includes('launch/patient');
        const choices = opts.patients ?? [];
        if (launch === undefined && wantsPatient && !opts.defaultPatient && choices.length) {
          return {
            fieldsHtml:
              `<label for="patient">Patient</label> <select id="patient" name="patient">` +
              choices.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name ?? p.id)}</option>`).join('') +
              `</select><br>`,
          };
        }
        return {};
      },
      afterGrant(grantId, params, form) {
        const launch = params.launch as string | undefined;
        if (launch !== undefined) {
          const ctx = launches.get(launch);
          if (ctx) grantContexts.set(grantId, ctx);
          return;
        }
        if (String(params.scope ?? '').split(' ').includes('launch/patient')) {
          const patient = form.get('patient') ?? opts.defaultPatient ?? opts.patients?.[0]?.id;
          if (patient) grantContexts.set(grantId, { patient, need_patient_banner: true });
        }
      },
    });

  return { provider, listener: oidcRequestListener(provider, interactions) };
  }
  let built = buildProvider();
  const provider = built.provider;
  listening.setHandler((req, res) => built.listener(req, res));


  let localJwks = createLocalJWKSet(publicJwks);
  const server: AuthServer = {
    issuer,
    tokenEndpoint,
    authorizationEndpoint: `${issuer}/auth`,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    fhirBase,
    smartConfiguration: {},
    async verifyAccessToken(token) {
      try {
        const { payload } = await jwtVerify(token, localJwks, { issuer, audience: fhirBase, typ: 'at+jwt' });
        return {
          scope: typeof payload.scope === 'string' ? payload.scope : '',
          clientId: String(payload.client_id ?? ''),
          sub: payload.sub,
          patient: typeof payload.patient === 'string' ? payload.patient : undefined,
          exp: payload.exp ?? 0,
          claims: payload,
        };
      } catch {
        return null;
      }
    },
    get tokenRequests() {
      return tokenRequests;
    },
    get tokenRequestsByGrant() {
      return tokenRequestsByGrant;
    },
    registerLaunch(launchId, ctx) {
      launches.set(launchId, ctx);
    },
    setInteraction(m) {
      mode = m;
    },
    async rotateSigningKey() {
      rotations++;
      signing = await testKeyPair('RS256', `auth-server-rotated-${rotations}`);
      publicJwks.keys.push(signing.publicJwk);
      localJwks = createLocalJWKSet(publicJwks);
      built = buildProvider();
      server.provider = built.provider;
      return signing.kid;
    },
    provider,
    close: () => listening.close(),
  };
  server.smartConfiguration = smartConfigurationFor(server);
  return server;
}
