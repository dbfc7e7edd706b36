// Lowering of auth and api declarations: settings read against their specs, URLs checked.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import * as S from '../settings.ts';
import { closest } from '../../dictionaries/closest.ts';
import { checkUrl } from '../url-checks.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
// An API's retry policy (docs/language.md, "Retries"); the runtime's defaults are the same.
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 30_000;
const DEFAULT_MAX_BACKOFF_MS = 30 * 60_000;

// ---- auth and api ------------------------------------------------------------------------------
export function lowerAuth(d: A.AuthDecl, file: string, r: Reporter, src: (r: A.Range) => string): P.Auth | undefined {
  const spec = S.authSpecs[d.authKind.name];
  if (!spec) {
    const near = closest(d.authKind.name, Object.keys(S.authSpecs), 1);
    r.error('HDC2045', d.authKind.range, `unknown auth kind "${d.authKind.name}"`, `Use one of ${Object.keys(S.authSpecs).join(', ')}.`,
      near.map((n) => ({ replacement: n, range: d.authKind.range })));
    return undefined;
  }
  const s = S.readSettings(d.settings, spec, `auth ${d.name.name}`, r, d.name.range);
  const v = (key: string) => { const st = s.get(key)?.[0]; return st ? S.toValue(st.values[0], file, src) : undefined; };
  const kind = d.authKind.name as P.Auth['kind'];
  const auth: P.Auth = { name: d.name.name, kind, src: src(d.range) };
  if (kind === 'basic') Object.assign(auth, { user: v('user'), password: v('password') });
  if (kind === 'bearer') auth.token = v('token');
  if (kind === 'oauth2' || kind === 'smart_backend') {
    if (s.has('token_url')) { auth.tokenUrl = v('token_url'); checkUrl(r, s.get('token_url')![0].values[0], 'the token URL'); }
    auth.clientId = v('client_id');
    if (kind === 'oauth2') {
      auth.clientSecret = v('client_secret');
      auth.clientAuth = S.settingString(s.get('client_auth')) === 'post' ? 'client_secret_post' : 'client_secret_basic';
    } else {
      auth.privateKey = v('private_key');
      auth.clientAuth = 'private_key_jwt';
      auth.alg = (S.settingString(s.get('alg')) as P.Auth['alg']) ?? 'RS384';
      if (s.has('kid')) auth.kid = v('kid');
    }
    const scope = S.settingString(s.get('scope'));
    if (scope !== undefined) auth.scope = scope;
  }
  return auth;
}

export function lowerApi(d: A.ApiDecl, file: string, r: Reporter, src: (r: A.Range) => string, refAuth: (id: A.Ident) => unknown): P.Api | undefined {
  const kind = d.apiKind.name;
  if (!['fhir', 'rest', 'hl7'].includes(kind)) {
    const near = closest(kind, ['fhir', 'rest', 'hl7'], 1);
    r.error('HDC2045', d.apiKind.range, `unknown API kind "${kind}"`, 'Use fhir, rest or hl7.', near.map((n) => ({ replacement: n, range: d.apiKind.range })));
    return undefined;
  }
  if (!['string', 'env', 'file'].includes(d.baseUrl.kind)) {
    r.error('HDC2046', d.baseUrl.range, 'the API base URL must be a "string" or env("NAME")', 'Write: api ehr fhir "https://ehr.example.org/R4"');
  }
  checkUrl(r, d.baseUrl, 'the API base URL');
  const s = S.readSettings(d.settings, S.apiSpec, `api ${d.name.name}`, r, d.name.range);
  const api: P.Api = {
    name: d.name.name,
    kind: kind as P.Api['kind'],
    baseUrl: S.toValue(d.baseUrl, file, src),
    timeoutMs: S.settingDuration(s.get('timeout')) ?? DEFAULT_TIMEOUT_MS,
    retry: lowerRetry(s, r),
    src: src(d.range),
  };
  if (kind === 'fhir') api.fhirVersion = 'R4';
  if (kind === 'rest') api.format = (S.settingString(s.get('format')) as P.Api['format']) ?? 'json';
  const validate = s.get('validate')?.[0];
  if (validate && kind !== 'fhir') r.error('HDC2048', validate.range, '"validate" applies to fhir APIs', 'Remove it: only FHIR request bodies are validated.');
  else if (validate) api.validate = S.settingString([validate]) as P.Api['validate'];
  const authSetting = s.get('auth')?.[0];
  if (authSetting && authSetting.values[0]?.kind === 'name') {
    const id: A.Ident = { kind: 'ident', name: authSetting.values[0].name, range: authSetting.values[0].range };
    refAuth(id);
    api.auth = id.name;
  }
  const headers = s.get('header');
  if (headers) api.headers = headers.map((h) => ({ name: (h.values[0] as A.StringLit).value, value: S.toValue(h.values[1], file, src) }));
  const tls = s.get('tls')?.[0]?.block;
  if (tls) {
    api.tls = {};
    for (const t of tls) if (['ca', 'cert', 'key'].includes(t.key.name) && t.values[0]) api.tls[t.key.name as 'ca'] = S.toValue(t.values[0], file, src);
  }
  return api;
}

/** `retry N backoff D max M`: whole attempts, at least one; the longest wait not below the first. */
function lowerRetry(s: Map<string, A.Setting[]>, r: Reporter): P.Retry {
  const attempts = S.settingNumber(s.get('retry')) ?? DEFAULT_ATTEMPTS;
  const backoffMs = S.settingDuration(s.get('backoff')) ?? DEFAULT_BACKOFF_MS;
  const maxBackoffMs = S.settingDuration(s.get('max')) ?? Math.max(DEFAULT_MAX_BACKOFF_MS, backoffMs);
  const retry = s.get('retry')?.[0];
  if (retry && (!Number.isInteger(attempts) || attempts < 1)) {
    r.error('HDC2047', retry.values[0].range, `"retry" takes the number of attempts in all, 1 or more (got ${attempts})`,
      'retry 1 tries once and never again; retry 5 tries up to five times.', [{ replacement: '1', range: retry.values[0].range }]);
    return { attempts: 1, backoffMs, maxBackoffMs };
  }
  const max = s.get('max')?.[0];
  if (max && maxBackoffMs < backoffMs) {
    r.error('HDC2047', max.values[0].range, `"max" (${max.values[0].kind === 'duration' ? max.values[0].text : maxBackoffMs + 'ms'}) is shorter than "backoff"`,
      'max caps the wait between attempts, which starts at backoff: make it at least as long.');
  }
  return { attempts, backoffMs, maxBackoffMs };
}

