// Every URL the runtime will call must use https (ldaps for LDAP), except on loopback (local development). A literal
// (or an env() default) is checked here; a URL from the environment is checked at start-up.
import type * as A from '../syntax/ast.ts';
import type { Reporter } from './reporter.ts';

/** localhost, *.localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1';
}

/** Checks a URL setting: an error for http:// to another host, a warning for http:// on loopback. */
export function checkUrl(r: Reporter, a: A.Atom, what: string, secure: 'https' | 'ldaps' = 'https'): void {
  if (a.kind === 'env') {
    if (a.default) checkUrlText(r, a.default, `${what} (the env(${a.name.raw}) default)`, secure);
    return;
  }
  if (a.kind === 'string') checkUrlText(r, a, what, secure);
}

function checkUrlText(r: Reporter, a: A.StringLit, what: string, secure: 'https' | 'ldaps'): void {
  let url: URL;
  try { url = new URL(a.value); } catch {
    r.error('HDC2043', a.range, `${what} is not an absolute URL`, 'Write the full URL: "https://host/path".');
    return;
  }
  if (url.protocol === `${secure}:`) return;
  const plain = secure === 'https' ? 'http' : 'ldap';
  const fix = url.protocol === `${plain}:` ? [{ replacement: JSON.stringify(a.value.replace(new RegExp(`^${plain}:`), `${secure}:`)), range: a.range }] : [];
  if (isLoopbackHost(url.hostname)) {
    r.warning('HDC5004', a.range, `${what} uses ${url.protocol.slice(0, -1)} on loopback`,
      'Allowed for local development only: the traffic stays on this machine. Deployed integrations use https.', fix);
    return;
  }
  r.error('HDC5004', a.range, `${what} does not use ${secure}`,
    `Patient data and credentials travel only over TLS outside loopback: use an ${secure}:// URL (${plain} is accepted for localhost and 127.0.0.1 only).`, fix);
}
