// A minimal OAuth client for the peers' own tests (PKCE S256, authorize URL, code exchange,
// client credentials). The connector has its own client; this one exists to prove the peers.
import { createHash, randomBytes } from 'node:crypto';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function randomState(): string {
  return randomBytes(16).toString('base64url');
}

export function authorizeUrl(
  authorizationEndpoint: string,
  p: { clientId: string; redirectUri: string; scope: string; state: string; challenge?: string; aud?: string; launch?: string; extra?: Record<string, string> },
): string {
  const u = new URL(authorizationEndpoint);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', p.clientId);
  u.searchParams.set('redirect_uri', p.redirectUri);
  u.searchParams.set('scope', p.scope);
  u.searchParams.set('state', p.state);
  if (p.challenge) {
    u.searchParams.set('code_challenge', p.challenge);
    u.searchParams.set('code_challenge_method', 'S256');
  }
  if (p.aud) u.searchParams.set('aud', p.aud);
  if (p.launch) u.searchParams.set('launch', p.launch);
  for (const [k, v] of Object.entries(p.extra ?? {})) u.searchParams.set(k, v);
  return u.href;
}

export interface TokenResult {
  status: number;
  body: Record<string, any>;
}

/** POSTs a form to the token endpoint; `basic` adds HTTP Basic client authentication. */
export async function tokenRequest(
  tokenEndpoint: string,
  form: Record<string, string>,
  basic?: { clientId: string; clientSecret: string },
): Promise<TokenResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (basic) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(basic.clientId)}:${enc(basic.clientSecret)}`).toString('base64')}`;
  }
  const res = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
