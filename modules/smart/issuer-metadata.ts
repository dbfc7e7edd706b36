// The authorization server's own metadata, for an EHR whose smart-configuration has no `issuer`
// (SMART requires it only with sso-openid-connect). The id_token's `iss` is the authorization
// server's issuer, which is not the FHIR base nor the token endpoint's origin when endpoints are
// relative to the FHIR base; the server says it in its OpenID Connect discovery document
// (`{fhirBase}/.well-known/openid-configuration`) or its RFC 8414 metadata at the token
// endpoint's origin. Only documents from the FHIR base or the token endpoint's origin (the
// parties the launch already trusts) are read.
import got from 'got';

export interface IssuerMetadata {
  issuer: string;
  jwksUri?: string;
  /** Where it was read (for the log). */
  from: string;
}

export function issuerMetadataUrls(fhirBase: string, tokenEndpoint: string): string[] {
  const base = fhirBase.endsWith('/') ? fhirBase : fhirBase + '/';
  const token = new URL(tokenEndpoint);
  // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
  const dir = token.pathname.replace(/\/[^/]*$/, '');
  const urls = [
    new URL('.well-known/openid-configuration', base).href,
    `${token.origin}/.well-known/openid-configuration${dir}`,
    `${token.origin}${dir}/.well-known/openid-configuration`,
    `${token.origin}/.well-known/oauth-authorization-server${dir}`,
  ];
  return [...new Set(urls)];
}

export async function findIssuerMetadata(fhirBase: string, tokenEndpoint: string, timeoutMs = 5_000): Promise<IssuerMetadata | undefined> {
  for (const url of issuerMetadataUrls(fhirBase, tokenEndpoint)) {
    let body: Record<string, unknown>;
    try {
      const res = await got(url, { headers: { accept: 'application/json' }, timeout: { request: timeoutMs }, retry: { limit: 0 }, followRedirect: false, throwHttpErrors: false });
      if (res.statusCode !== 200) continue;
      body = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof body.issuer !== 'string' || !/^https?:\/\//.test(body.issuer)) continue;
    return { issuer: body.issuer, ...(typeof body.jwks_uri === 'string' ? { jwksUri: new URL(body.jwks_uri, url).href } : {}), from: url };
  }
  return undefined;
}
