// Signing in to the dashboard through the runtime's login providers (runtime/platform/login/):
// a form checked against the users table, LDAP or PostgreSQL, or a redirect to an OpenID Connect
// provider. The login block's `require` must hold; the role comes from the claims' groups.
import { authorizeUser, createLoginMethod } from '../../../runtime/platform/login/create-login.ts';
import type { Claims, LoginMethod } from '../../../runtime/platform/login/login-method.ts';
import type { ValueResolver } from '../../../runtime/workflows/resolve-value.ts';
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';
import type { DashboardPlan, DashboardRoleName } from '../monitoring-plan.ts';

export function groupsOf(claims: Claims): string[] {
  const g = claims.groups ?? claims.group ?? claims.memberOf;
  if (Array.isArray(g)) return g.map(String);
  return typeof g === 'string' ? g.split(/[,\s]+/).filter(Boolean) : [];
}

/** operator when a group grants it, else viewer when a group grants that, else none. */
export function roleFor(plan: DashboardPlan, claims: Claims): DashboardRoleName | null {
  const groups = new Set(groupsOf(claims));
  const grants = (name: DashboardRoleName) => plan.roles.some((r) => r.name === name && r.groups.some((g) => groups.has(g)));
  if (grants('operator')) return 'operator';
  if (grants('viewer')) return 'viewer';
  return null;
}

export type SignIn = { ok: true; username: string; role: DashboardRoleName } | { ok: false; username: string; why: 'require' | 'no-role' };

export function decide(plan: DashboardPlan, claims: Claims, resolve: ValueResolver): SignIn {
  const username = String(claims.username ?? claims.preferred_username ?? claims.email ?? claims.sub ?? 'unknown');
  if (!authorizeUser(plan.login, claims, resolve).ok) return { ok: false, username, why: 'require' };
  const role = roleFor(plan, claims);
  return role ? { ok: true, username, role } : { ok: false, username, why: 'no-role' };
}

export function loginMethod(plan: DashboardPlan, resolve: ValueResolver, sql: SharedSql): Promise<LoginMethod> {
  return createLoginMethod(plan.login, resolve, sql);
}
