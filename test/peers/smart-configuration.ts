// The `.well-known/smart-configuration` document (SMART App Launch 2.2) of an auth server.

export interface SmartConfigurationSource {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  introspectionEndpoint: string;
}

export interface SmartConfigurationOptions {
  /** Leave out `issuer` and `jwks_uri`, as servers without `sso-openid-connect` do. */
  omitIssuer?: boolean;
  /** Replace the capability list. */
  capabilities?: string[];
  /**
   * Write the endpoints relative to this FHIR base (SMART allows it): `../token` from
   * `http://host/fhir/`. The authorization server must then answer on the FHIR base's origin.
   */
  relativeTo?: string;
}

export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'context-passthrough-banner',
  'context-passthrough-style',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'permission-offline',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
  'sso-openid-connect',
];

export function smartConfigurationFor(
  auth: SmartConfigurationSource,
  opts: SmartConfigurationOptions = {},
): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    issuer: auth.issuer,
    jwks_uri: auth.jwksUri,
    authorization_endpoint: auth.authorizationEndpoint,
    token_endpoint: auth.tokenEndpoint,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    introspection_endpoint: auth.introspectionEndpoint,
    revocation_endpoint: `${auth.issuer}/token/revocation`,
    userinfo_endpoint: `${auth.issuer}/me`,
    scopes_supported: [
      'openid',
      'fhirUser',
      'launch',
      'launch/patient',
      'offline_access',
      'online_access',
      'patient/*.rs',
      'user/*.rs',
      'system/*.rs',
    ],
    response_types_supported: ['code'],
    capabilities: opts.capabilities ?? SMART_CAPABILITIES,
    code_challenge_methods_supported: ['S256'],
  };
  if (opts.relativeTo) {
    const base = new URL(opts.relativeTo.endsWith('/') ? opts.relativeTo : opts.relativeTo + '/');
    const depth = base.pathname.split('/').filter(Boolean).length;
    for (const k of ['authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
      const v = doc[k];
      if (typeof v === 'string') doc[k] = '../'.repeat(depth) + new URL(v).pathname.replace(/^\//, '');
    }
  }
  if (opts.omitIssuer) {
    delete doc.issuer;
    delete doc.jwks_uri;
  }
  return doc;
}
