// Credentials that never change: HTTP Basic and a fixed bearer token. A 401 cannot be cured by
// asking again, so refresh() says no.
import type { AuthProvider } from './auth-provider.ts';

export function basicAuth(user: string, password: string): AuthProvider {
  const value = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  return { authorization: async () => value, refresh: async () => false };
}

export function bearerAuth(token: string): AuthProvider {
  const value = `Bearer ${token}`;
  return { authorization: async () => value, refresh: async () => false };
}
