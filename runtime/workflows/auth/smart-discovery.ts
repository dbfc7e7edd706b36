// SMART configuration discovery: `{fhirBase}/.well-known/smart-configuration`. Many servers leave
// out `issuer` (it is only required with sso-openid-connect), and endpoints may be relative to
// the FHIR base, so the result is read by hand rather than through OIDC discovery.
import https from 'node:https';
import got from 'got';
import type { TlsOptions } from './tls-fetch.ts';

export interface SmartConfiguration {
  issuer?: string;
  token_endpoint: string;
  token_endpoint_auth_methods_supported?: string[];
  [k: string]: unknown;
}

export async function discoverSmartConfiguration(fhirBase: string, timeoutMs = 10_000, tls?: TlsOptions): Promise<SmartConfiguration> {
  const base = fhirBase.endsWith('/') ? fhirBase : fhirBase + '/';
  const url = new URL('.well-known/smart-configuration', base);
  const res = await got(url, {
    headers: { accept: 'application/json' },
    timeout: { request: timeoutMs },
    retry: { limit: 1 },
    followRedirect: false,
    throwHttpErrors: false,
    ...(tls && (tls.ca || tls.cert) ? { agent: { https: new https.Agent({ ca: tls.ca, cert: tls.cert, key: tls.key }) } } : {}),
  });
  if (res.statusCode !== 200) throw new DiscoveryError(`${url.href} answered ${res.statusCode}`, res.statusCode >= 500 || res.statusCode === 429);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(res.body);
  } catch {
    throw new DiscoveryError(`${url.href} is not JSON`, false);
  }
  if (typeof doc.token_endpoint !== 'string') throw new DiscoveryError(`${url.href} has no token_endpoint`, false);
  return { ...doc, token_endpoint: new URL(doc.token_endpoint, base).href } as SmartConfiguration;
}

export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(`SMART discovery failed: ${message}`);
  }
}
