// Turns the plan's `auth` declarations into AuthProviders, one per auth (so every API and run
// using it shares one token cache).
import type { Auth, Plan } from '../../compiler/schema/plan.types.ts';
import type { ValueResolver } from '../engine/resolve-value.ts';
import { srcLine } from '../config/source-location.ts';
import type { AuthProvider } from './auth-provider.ts';
import { ClientCredentialsAuth } from './client-credentials.ts';
import { loadClientKey, type ClientKey } from './private-key.ts';
import { basicAuth, bearerAuth } from './static-auth.ts';

export function createAuth(auth: Auth, resolve: ValueResolver, fhirBase?: string): AuthProvider {
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
      });
    }
  }
}

/** One provider per auth name; discovery uses the first FHIR API that names the auth. */
export function createAuths(plan: Pick<Plan, 'auths' | 'apis'>, resolve: ValueResolver): Map<string, AuthProvider> {
  const out = new Map<string, AuthProvider>();
  for (const auth of plan.auths) {
    const api = plan.apis.find((a) => a.auth === auth.name && a.kind === 'fhir');
    out.set(auth.name, createAuth(auth, resolve, api ? resolve(api.baseUrl) : undefined));
  }
  return out;
}
