// An external OpenID Connect identity provider for tests, standing in for Okta / Auth0 / Entra ID:
// a second oidc-provider with discovery, authorization code + PKCE, a login form, users with
// claims (email, groups, ...) carried in the id_token.
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { testKeyPair } from './client-keys.ts';
import { listenLoopback, type TlsKeyPair } from './listen.ts';
import { interactionHandler, oidcRequestListener, type InteractionMode, type PeerUser } from './oidc-interactions.ts';

export type { InteractionMode, PeerUser } from './oidc-interactions.ts';

export interface IdpClient {
  clientId: string;
  /** Without a secret the client is public (PKCE only). */
  clientSecret?: string;
  auth?: 'client_secret_basic' | 'client_secret_post' | 'none';
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
}

export interface IdpOptions {
  clients: IdpClient[];
  /** Users; `claims` (email, groups, name, ...) go into the id_token and userinfo. */
  users: PeerUser[];
  /** `form` (default): login and consent pages; `auto`: sign in `autoUser`; `deny`. */
  interaction?: InteractionMode;
  autoUser?: string;
  /** id_token lifetime in seconds (default 600). */
  idTokenTtl?: number;
  tls?: TlsKeyPair;
}

export interface Idp {
  /** e.g. `http://127.0.0.1:40127`; discovery at `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  discoveryUrl: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string;
  /** Successful logins (form or auto) so far. */
  readonly logins: number;
  setInteraction(mode: InteractionMode): void;
  provider: Provider;
  close(): Promise<void>;
}

const OIDC_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'];

export async function startIdp(opts: IdpOptions): Promise<Idp> {
  const listening = await listenLoopback(opts.tls);
  const issuer = listening.origin;
  let mode: InteractionMode = opts.interaction ?? 'form';
  let logins = 0;
  const signing = await testKeyPair('RS256', 'idp');

  const configuration: Configuration = {
    clients: opts.clients.map(
      (c): ClientMetadata => ({
        client_id: c.clientId,
        ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
        token_endpoint_auth_method: c.auth ?? (c.clientSecret ? 'client_secret_basic' : 'none'),
        redirect_uris: c.redirectUris,
        post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
      }),
    ),
    jwks: { keys: [signing.privateJwk as never] },
    cookies: { keys: ['peer-idp-cookie-key'] },
    findAccount: async (_ctx, sub) => {
      const user = opts.users.find((u) => u.username === sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ sub, preferred_username: sub, ...user.claims }) };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: OIDC_SCOPES,
    // Like Okta/Entra with groups claims configured: the claims travel in the id_token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: opts.idTokenTtl ?? 600,
      RefreshToken: 86400,
      Interaction: 600,
      Session: 3600,
      Grant: 86400,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('authorization.success', () => {
    logins++;
  });

  const interactions = interactionHandler({
    provider,
    users: opts.users,
    title: 'Identity provider sign-in',
    mode: () => mode,
    autoUser: () => opts.autoUser ?? opts.users[0]?.username,
    fillGrant(grant, params) {
      const requested = String(params.scope ?? '').split(' ');
      grant.addOIDCScope(requested.filter((s) => OIDC_SCOPES.includes(s)).join(' '));
    },
  });

  listening.setHandler(oidcRequestListener(provider, interactions));

  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    userinfoEndpoint: `${issuer}/me`,
    get logins() {
      return logins;
    },
    setInteraction(m) {
      mode = m;
    },
    provider,
    close: () => listening.close(),
  };
}
