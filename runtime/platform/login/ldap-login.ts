// `login ldap`: the form's credentials checked by an LDAP simple bind (Active Directory, OpenLDAP)
// as the DN made from the `bind_dn` template. The user name is escaped for a DN value (RFC 4514),
// so `admin,ou=x` or `*` cannot change which entry binds; an empty password is refused before it
// reaches the directory (an empty simple bind is an anonymous bind that "succeeds").
// After the bind the user's own entry is read: its attributes and group names become claims.
import { AndFilter, Client, EqualityFilter, InvalidCredentialsError, type Entry } from 'ldapts';
import { LoginUnavailableError, type Claims, type FormLogin } from './login-method.ts';

/** Escapes a value for use inside a DN attribute value (RFC 4514 section 2.4). */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`));
  if (/^[ #]/.test(out)) out = `\\${out}`;
  if (/ $/.test(out)) out = `${out.slice(0, -1)}\\ `;
  return out;
}

export interface LdapLoginOptions {
  url: string;
  /** DN template with {username}, e.g. uid={username},ou=people,dc=example,dc=org */
  bindDn: string;
  timeoutMs?: number;
  /** CA certificates for ldaps:// (PEM). */
  ca?: string;
}

const SKIP = new Set(['userPassword', 'objectClass']);

function entryClaims(entry: Entry): Claims {
  const out: Claims = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'dn' || SKIP.has(k)) continue;
    const values = (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
    out[k] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/** The group search base: the bind template's DN without its first two RDNs (the user and its container). */
function groupBase(bindDn: string): string | undefined {
  const rdns = bindDn.split(/(?<!\\),/);
  return rdns.length > 2 ? rdns.slice(2).join(',') : undefined;
}

export function ldapLogin(opts: LdapLoginOptions): FormLogin {
  const timeout = opts.timeoutMs ?? 5000;
  return {
    kind: 'form',
    async verify(username, password) {
      if (!username || !password) return null;
      const dn = opts.bindDn.replace(/\{username\}/g, escapeDnValue(username));
      const client = new Client({
        url: opts.url,
        timeout,
        connectTimeout: timeout,
        ...(opts.ca ? { tlsOptions: { ca: opts.ca } } : {}),
      });
      try {
        try {
          await client.bind(dn, password);
        } catch (err) {
          if (err instanceof InvalidCredentialsError) return null;
          throw new LoginUnavailableError(`LDAP bind failed: ${(err as Error).name}`, { cause: err });
        }
        const claims: Claims = { username, sub: dn, dn };
        try {
          const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['*', 'memberOf'] });
          if (searchEntries[0]) Object.assign(claims, entryClaims(searchEntries[0]), { username, dn });
          const groups = new Set<string>();
          const memberOf = searchEntries[0]?.memberOf;
          for (const g of Array.isArray(memberOf) ? memberOf : memberOf ? [memberOf] : []) {
            const cn = /^cn=([^,]+)/i.exec(String(g))?.[1];
            if (cn) groups.add(cn);
          }
          const base = groupBase(dn);
          if (base) {
            const filter = new AndFilter({
              filters: [new EqualityFilter({ attribute: 'objectClass', value: 'groupOfNames' }), new EqualityFilter({ attribute: 'member', value: dn })],
            });
            const found = await client.search(base, { scope: 'sub', filter, attributes: ['cn'] });
            for (const e of found.searchEntries) for (const cn of [e.cn].flat()) if (cn) groups.add(String(cn));
          }
          claims.groups = [...groups].sort();
        } catch {
          // Reading the entry is a bonus: a directory that lets users bind but not read still logs them in.
          claims.groups ??= [];
        }
        return claims;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
  };
}
