// Turns the plan's `auth` declarations into AuthProviders, one per auth (so every API and run
// using it shares one token cache).
import type { Auth, Plan } from '../../../plan/plan.types.ts';
import type { ValueResolver } from '../resolve-value.ts';
import { srcLine } from '../../platform/config/source-location.ts';
import type { AuthProvider } from './auth-provider.ts';
import { ClientCredentialsAuth } from './client-credentials.ts';
import { loadClientKey, type ClientKey } from './private-key.ts';
import { basicAuth, bearerAuth } from './static-auth.ts';
import type { TlsOptions } from './tls-fetch.ts';

export function createAuth(auth: Auth, resolve: ValueResolver, fhirBase?: string, tls?: TlsOptions): AuthProvider {
  const need = (field: keyof Auth): string => {
    const v = auth[field];
    if (v === undefined) throw new Error(`${srcLine(auth.src)}: auth ${auth.name} needs ${field}`);
    return resolve(v as Parameters<ValueResolver>[0]);
  };
  switch (auth.kind) {
    case 'basic':
      return basicAuth(need('user'), need('password'));
    case 'bearer':
      return bearerAuth(need('token'));
    case 'oauth2':
    case 'smart_backend': {
      const method = auth.clientAuth ?? (auth.privateKey !== undefined ? 'private_key_jwt' : 'client_secret_basic');
      const clientId = need('clientId');
      let key: Promise<ClientKey> | undefined;
      const clientAuth =
        method === 'private_key_jwt'
          ? {
              method,
              key: () => (key ??= loadClientKey(need('privateKey'), auth.alg ?? 'RS384', auth.kid !== undefined ? need('kid') : undefined)),
            }
          : { method, secret: need('clientSecret') };
      return new ClientCredentialsAuth({
        name: auth.name,
        clientId,
        auth: clientAuth,
        scope: auth.scope,
        tokenUrl: auth.tokenUrl !== undefined ? need('tokenUrl') : undefined,
        fhirBase,
        tls,
      });
    }
  }
}

/**
 * One provider per auth name. Discovery (and the TLS material for token requests) comes from the
 * first FHIR API that names the auth, else the first API that does.
 */
export function createAuths(plan: Pick<Plan, 'auths' | 'apis'>, resolve: ValueResolver): Map<string, AuthProvider> {
  const out = new Map<string, AuthProvider>();
  for (const auth of plan.auths) {
    const fhir = plan.apis.find((a) => a.auth === auth.name && a.kind === 'fhir');
    const api = fhir ?? plan.apis.find((a) => a.auth === auth.name);
    const t = api?.tls;
    const tls = t ? { ca: t.ca && resolve(t.ca), cert: t.cert && resolve(t.cert), key: t.key && resolve(t.key) } : undefined;
    out.set(auth.name, createAuth(auth, resolve, fhir ? resolve(fhir.baseUrl) : undefined, tls));
  }
  return out;
}
