// HTTP Basic credentials, compared in constant time (over SHA-256 digests, so the lengths of the
// expected values do not leak either). Credentials are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  user: string;
  password: string;
}

export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (!header) return null;
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function credentialsMatch(given: BasicCredentials, expected: BasicCredentials): boolean {
  // Both comparisons always run: no early exit on a wrong user name.
  const userOk = constantTimeEqual(given.user, expected.user);
  const passwordOk = constantTimeEqual(given.password, expected.password);
  return userOk && passwordOk;
}
