// Lowering of SMART launches: client settings, login, the fetch block, map and redirect rules.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import type { SymbolTable } from '../symbols.ts';
import { lowerExpr, type ExprContext, type VarInfo } from '../lower-expr.ts';
import * as S from '../settings.ts';
import { closest } from '../../dictionaries/closest.ts';
import { checkUrl } from '../url-checks.ts';

import { builtin, isLoopVar, lowerBody, type BodyContext } from './workflow.ts';
// ---- SMART launches ----------------------------------------------------------------------------
export function lowerLaunch(d: A.LaunchDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable): P.Launch {
  const s = S.readSettings(d.settings, S.launchSpec, `smart launch ${d.name.name}`, r, d.name.range);
  const v = (key: string) => { const st = s.get(key)?.[0]; return st ? S.toValue(st.values[0], file, src) : undefined; };
  const issuers = S.settingStrings(s.get('issuers'));
  for (const a of s.get('issuers')?.[0].values ?? []) checkUrl(r, a, 'an issuer');
  if (!issuers.length && !s.has('standalone')) {
    r.error('HDC5005', d.name.range, `smart launch ${d.name.name} has neither issuers nor standalone`, 'Add `issuers "https://ehr…/R4"` for EHR launch and/or `standalone "https://ehr…/R4"` for standalone launch.');
  }
  const vars = new Map<string, VarInfo>();
  vars.set('context', builtin('context', file, 'record', ['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant', 'fhirUser']));
  let login: P.Login | undefined;
  if (d.login) {
    const spec = S.loginSpecs[d.login.method.name];
    if (!spec) {
      const near = closest(d.login.method.name, Object.keys(S.loginSpecs), 1);
      r.error('HDC2045', d.login.method.range, `unknown login method "${d.login.method.name}"`, `Use ${Object.keys(S.loginSpecs).join(', ')}.`, near.map((n) => ({ replacement: n, range: d.login!.method.range })));
    } else {
      const ls = S.readSettings(d.login.settings, spec, `login ${d.login.method.name}`, r, d.login.method.range);
      const lv = (key: string) => { const st = ls.get(key)?.[0]; return st ? S.toValue(st.values[0], file, src) : undefined; };
      login = { kind: d.login.method.name as P.Login['kind'], src: src(d.login.range) };
      if (ls.has('issuer')) { login.issuer = lv('issuer'); checkUrl(r, ls.get('issuer')![0].values[0], 'the IdP issuer'); }
      if (ls.has('client_id')) login.clientId = lv('client_id');
      if (ls.has('client_secret')) login.clientSecret = lv('client_secret');
      if (ls.has('scope')) login.scope = S.settingString(ls.get('scope'));
      if (ls.has('url')) { login.url = lv('url'); if (d.login.method.name === 'ldap') checkUrl(r, ls.get('url')![0].values[0], 'the LDAP URL', 'ldaps'); }
      if (ls.has('bind_dn')) login.bindDn = S.settingString(ls.get('bind_dn'));
      if (ls.has('query')) login.query = S.settingString(ls.get('query'));
      const lctx: ExprContext = { file, r, symbols, vars: new Map([['claims', builtin('claims', file, 'record')]]), src };
      if (d.login.require) login.require = lowerExpr(d.login.require, lctx).expr;
      if (d.login.map) login.map = lowerExpr(d.login.map, lctx).expr;
    }
    vars.set('user', builtin('user', file, 'record', d.login.map?.entries.map((e) => e.key)));
  }
  const ctx: BodyContext = { file, r, symbols, container: d.name.name, src, apiKinds: new Map(), ids: new Set(), counters: {}, launch: true };
  const fetchVars = new Map(vars);
  const firstDecl = symbols.declarations.length;
  const fetch = lowerBody(d.fetch, ctx, fetchVars, d.range.end.offset);
  for (const decl of symbols.declarations.slice(firstDecl)) {
    if ((decl.kind === 'step' || decl.kind === 'variable') && !fetchVars.has(decl.name) && !isLoopVar(decl)) {
      fetchVars.set(decl.name, { decl, type: decl.type ?? 'any' });
    }
  }
  for (const st of d.fetch) {
    if (st.kind !== 'request' && st.kind !== 'let' && st.kind !== 'if' && st.kind !== 'error') {
      r.error('HDC2056', st.range, `${st.kind} is not allowed in a launch fetch block`, 'A fetch block reads FHIR data: read, search, let and if.');
    }
    if (st.kind === 'request' && st.protocol === 'rest') r.error('HDC2011', st.range, 'launch fetches are FHIR reads and searches', 'Use read Type ID or search Type { … }.');
  }
  const ectx: ExprContext = { file, r, symbols, vars: fetchVars, src };
  const launch: P.Launch = {
    name: d.name.name,
    clientId: v('client_id') ?? '',
    scope: S.settingString(s.get('scope')) ?? '',
    issuers,
    fetch,
    redirect: { rules: [], otherwise: { to: 'https://invalid', src: src(d.range) } },
    src: src(d.range),
  };
  if (s.has('client_secret')) launch.clientSecret = v('client_secret');
  if (s.has('private_key')) { launch.privateKey = v('private_key'); launch.alg = (S.settingString(s.get('alg')) as P.Launch['alg']) ?? 'RS384'; }
  if (s.has('kid')) launch.kid = v('kid');
  if (s.has('standalone')) { launch.standalone = v('standalone'); checkUrl(r, s.get('standalone')![0].values[0], 'the standalone FHIR base'); }
  if (s.has('redirect_uri')) { launch.redirectUri = v('redirect_uri'); checkUrl(r, s.get('redirect_uri')![0].values[0], 'the redirect_uri'); }
  if (login) launch.login = login;
  const scope = launch.scope.split(/\s+/);
  if (issuers.length && !scope.includes('launch')) r.warning('HDC2057', s.get('scope')?.[0].values[0].range ?? d.name.range, 'EHR launch needs the "launch" scope', 'Add "launch" to scope.');
  if (d.map) {
    launch.map = lowerExpr(d.map, ectx).expr;
    fetchVars.set('data', builtin('data', file, 'record', d.map.entries.map((e) => e.key)));
  }
  const sign = s.get('sign')?.[0];
  if (sign) launch.sign = { secret: S.toValue(sign.values[0], file, src), ttlSeconds: Math.round((S.settingDuration(s.get('sign'), 1) ?? 300_000) / 1000) };

  // Redirect targets are checked by checks/launch-checks.ts.
  const rule = (rd: A.RedirectRuleDecl): P.RedirectRule => {
    const out: P.RedirectRule = { to: rd.to.value, src: src(rd.range) };
    if (rd.when) out.when = lowerExpr(rd.when, ectx).expr;
    if (rd.with) out.with = lowerExpr(rd.with, ectx).expr;
    return out;
  };
  if (!d.redirect || !d.redirect.otherwise) {
    r.error('HDC2006', d.redirect?.range ?? d.name.range, `smart launch ${d.name.name} needs a redirect block ending in otherwise`,
      'Write: redirect { when COND to "https://…" with { … }  otherwise to "https://…" }');
  }
  if (d.redirect) {
    launch.redirect.rules = d.redirect.rules.map(rule);
    if (d.redirect.otherwise) launch.redirect.otherwise = rule(d.redirect.otherwise);
  }
  return launch;
}
