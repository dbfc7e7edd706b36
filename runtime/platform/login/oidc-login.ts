// `login oidc`: the user signs in at an external OpenID Connect provider (Okta, Auth0, Entra ID,
// Keycloak, …): discovery, authorization code with PKCE S256, state and nonce, and a validated
// id_token whose claims (email, groups, …) the block's `require` and `map` read.
import * as oidc from 'openid-client';
import { LoginRefusedError, LoginUnavailableError, type Claims, type RedirectLogin } from './login-method.ts';

export interface OidcLoginOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scope?: string;
  /** Re-discover after this long (default 1 h). */
  ttlMs?: number;
}

const isLoopback = (h: string) => h === 'localhost' || h === '[::1]' || /^127\./.test(h);

export function oidcLogin(opts: OidcLoginOptions): RedirectLogin {
  let cached: { at: number; config: Promise<oidc.Configuration> } | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    if (cached && Date.now() - cached.at < (opts.ttlMs ?? 3_600_000)) return cached.config;
    const issuer = new URL(opts.issuer);
    const insecure = issuer.protocol === 'http:' && isLoopback(issuer.hostname);
    const config = oidc
      .discovery(
        issuer,
        opts.clientId,
        undefined,
        opts.clientSecret !== undefined ? oidc.ClientSecretBasic(opts.clientSecret) : oidc.None(),
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        cached = undefined;
        throw new LoginUnavailableError(`OIDC discovery of ${issuer.origin} failed: ${(err as Error)?.message ?? err}`, { cause: err });
      });
    cached = { at: Date.now(), config };
    return config;
  };
  const scope = opts.scope ?? 'openid profile email';
  return {
    kind: 'redirect',
    async begin(redirectUri, givenState) {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = givenState ?? oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: scope.split(/\s+/).includes('openid') ? scope : `openid ${scope}`,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, state, verifier, nonce };
    },
    async finish(callbackUrl, checks) {
      const error = callbackUrl.searchParams.get('error');
      if (error) throw new LoginRefusedError(`the identity provider answered ${error.slice(0, 64)}`);
      const config = await configuration();
      let tokens;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        if (err instanceof oidc.AuthorizationResponseError) throw new LoginRefusedError(`the identity provider answered ${err.error}`);
        if (err instanceof oidc.ResponseBodyError) throw new LoginRefusedError(`the identity provider's token endpoint answered ${err.status} ${err.error}`);
        throw new LoginUnavailableError(`OIDC code exchange failed: ${(err as { code?: string }).code ?? (err as Error)?.name}`, { cause: err });
      }
      const claims = tokens.claims();
      if (!claims) throw new LoginRefusedError('no id_token from the identity provider');
      return { ...claims } as Claims;
    },
  };
}
