// How a launch logs its user in after the SMART handshake. Two shapes: a redirect to an external
// OpenID Connect provider, or a form served by the connector whose credentials are checked
// against LDAP, the embedded users table or a PostgreSQL query. Each yields `claims`, which the
// block's `require` must accept and its `map` turns into `user`.
export type Claims = Record<string, unknown>;

export interface RedirectLoginStart {
  url: string;
  state: string;
  verifier: string;
  nonce: string;
}

export interface RedirectLogin {
  kind: 'redirect';
  /**
   * Builds the IdP authorization URL (PKCE S256 and nonce are new each time; so is `state` unless
   * the caller gives one, which must carry at least 128 random bits).
   */
  begin(redirectUri: string, state?: string): Promise<RedirectLoginStart>;
  /** Validates the callback (state, code exchange with PKCE, id_token) and returns its claims. */
  finish(callbackUrl: URL, checks: { state: string; verifier: string; nonce: string }): Promise<Claims>;
}

export interface FormLogin {
  kind: 'form';
  /** The claims of the user, or null when the credentials are wrong. Throws when the directory fails. */
  verify(username: string, password: string): Promise<Claims | null>;
  close?(): Promise<void>;
}

export type LoginMethod = RedirectLogin | FormLogin;

/** A login that could not be checked (directory or IdP down, misconfigured). */
export class LoginUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoginUnavailableError';
  }
}

/** A login the IdP or the user refused (access_denied, a bad callback). */
export class LoginRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginRefusedError';
  }
}
