// Builds a launch's login method from its plan block, and applies the block's `require` and `map`
// to the claims a login produced.
import type { Login, Value } from '../../../plan/plan.types.ts';
import { srcLine } from '../config/source-location.ts';
import type { ValueResolver } from '../../workflows/resolve-value.ts';
import { evaluate } from '../../workflows/expr/evaluate.ts';
import { truthy } from '../../workflows/expr/values.ts';
import { ldapLogin } from './ldap-login.ts';
import type { Claims, LoginMethod } from './login-method.ts';
import { oidcLogin } from './oidc-login.ts';
import { postgresLogin } from './postgres-login.ts';
import { UsersTable, usersLogin } from './users-table.ts';
import type { SharedSql } from '../../store/shared-sql.ts';

export async function createLoginMethod(login: Login, resolve: ValueResolver, sql: SharedSql): Promise<LoginMethod> {
  const need = (v: Value | undefined, what: string): string => {
    if (v === undefined) throw new Error(`${srcLine(login.src)}: login ${login.kind} needs ${what}`);
    return resolve(v);
  };
  switch (login.kind) {
    case 'oidc':
      return oidcLogin({
        issuer: need(login.issuer, 'issuer'),
        clientId: need(login.clientId, 'client_id'),
        ...(login.clientSecret !== undefined ? { clientSecret: resolve(login.clientSecret) } : {}),
        ...(login.scope ? { scope: login.scope } : {}),
      });
    case 'ldap':
      if (!login.bindDn?.includes('{username}')) throw new Error(`${srcLine(login.src)}: login ldap needs bind_dn with {username}`);
      return ldapLogin({ url: need(login.url, 'url'), bindDn: login.bindDn });
    case 'users':
      return usersLogin(new UsersTable(sql));
    case 'postgres':
      if (!login.query) throw new Error(`${srcLine(login.src)}: login postgres needs query`);
      return postgresLogin({ url: need(login.url, 'url'), query: login.query });
  }
}

export type Authorization = { ok: true; user: Record<string, unknown> } | { ok: false };

/** `require` must hold over `claims`; `map` (default: the claims themselves) becomes `user`. */
export function authorizeUser(login: Login, claims: Claims, secrets?: (v: Value) => string): Authorization {
  const scope = { vars: { claims }, ...(secrets ? { secrets } : {}) };
  if (login.require && !truthy(evaluate(login.require, scope))) return { ok: false };
  const mapped = login.map ? evaluate(login.map, scope) : claims;
  const user = mapped && typeof mapped === 'object' && !Array.isArray(mapped) ? (mapped as Record<string, unknown>) : { value: mapped };
  return { ok: true, user };
}
