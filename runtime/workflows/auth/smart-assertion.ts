// private_key_jwt shaped for SMART (App Launch 2.2 and Backend Services): header typ JWT, alg and
// kid; claims iss = sub = client_id, aud = the token endpoint URL, exp at most five minutes ahead,
// a unique jti. openid-client's defaults differ (no typ, aud = issuer, 60 s), hence the hook.
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ClientKey } from './private-key.ts';

export function smartPrivateKeyJwt(clientId: string, key: ClientKey, tokenEndpoint: string, lifetimeSec = 240): oidc.ClientAuth {
  const lifetime = Math.min(lifetimeSec, 300);
  return oidc.PrivateKeyJwt(
    { key: key.key, kid: key.kid },
    {
      [oidc.modifyAssertion]: (header, payload) => {
        header.typ = 'JWT';
        header.kid = key.kid;
        header.alg = key.alg;
        const now = Math.floor(Date.now() / 1000);
        payload.iss = clientId;
        payload.sub = clientId;
        payload.aud = tokenEndpoint;
        payload.iat = now;
        payload.exp = now + lifetime;
        payload.jti = randomUUID();
      },
    },
  );
}
