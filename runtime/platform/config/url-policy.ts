// The URLs the runtime calls (API bases, token URLs, IdP issuers, standalone bases, redirect_uri,
// LDAP directories) must use https (ldaps) outside loopback. Literal URLs are checked by the compiler; those that come from
// env()/file() are checked here, at start-up, before anything listens or calls out.
import type { Plan, Value } from '../../../plan/plan.types.ts';
import { srcLine } from './source-location.ts';

export const isLoopbackHost = (hostname: string): boolean => {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1';
};

export interface UrlFinding { problem?: string; warning?: string }

/** Each URL that came from a reference: `problem` for http(s)-less or non-loopback http, `warning` for loopback http. */
export function checkReferencedUrls(original: Plan, resolved: Plan): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const check = (before: Value | undefined, after: Value | undefined, what: string, secure = 'https') => {
    if (before === undefined || typeof before === 'string' || typeof after !== 'string') return;
    const where = `${srcLine(before.src)}: ${what}`;
    let url: URL;
    try { url = new URL(after); } catch { problems.push(`${where} is not an absolute URL`); return; }
    const plain = secure === 'https' ? 'http' : 'ldap';
    if (url.protocol === `${secure}:`) return;
    if (url.protocol === `${plain}:` && isLoopbackHost(url.hostname)) warnings.push(`${where} uses ${plain} on loopback (${url.host}): local development only`);
    else problems.push(`${where} must use ${secure} outside loopback, got ${url.protocol}//${url.host}`);
  };
  original.apis.forEach((a, i) => check(a.baseUrl, resolved.apis[i]?.baseUrl, `the base URL of api ${a.name}`));
  original.auths.forEach((a, i) => check(a.tokenUrl, resolved.auths[i]?.tokenUrl, `the token URL of auth ${a.name}`));
  original.launches.forEach((l, i) => {
    const r = resolved.launches[i];
    check(l.standalone, r?.standalone, `the standalone FHIR base of launch ${l.name}`);
    check(l.redirectUri, r?.redirectUri, `the redirect_uri of launch ${l.name}`);
    check(l.login?.issuer, r?.login?.issuer, `the IdP issuer of launch ${l.name}`);
    if (l.login?.kind === 'ldap') check(l.login.url, r?.login?.url, `the LDAP URL of launch ${l.name}`, 'ldaps');
  });
  return { problems, warnings };
}
