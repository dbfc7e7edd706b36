// Name resolution, checks and lowering of a whole project to the plan's parts, in one walk over
// the ASTs. Declarations are collected first (across files), so order between files never matters.
import { posix } from 'node:path';
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { Reporter, type AnalyzeOptions } from './reporter.ts';
import { SymbolTable, type Declaration, type SymbolKind } from './symbols.ts';
import { lowerExpr, srcOf, type ExprContext, type VarInfo } from './lower-expr.ts';
import * as S from './settings.ts';
import { checkLaunchDecl } from './launch-checks.ts';
import { withBase } from './launch-extends.ts';
import { loopbackHttpTarget, optionalFetch } from './launch-checks.ts';
import { closest } from '../dictionaries/closest.ts';
import { checkHl7Path, resolveHl7Version, unknownHl7VersionMessage, messageTypeStatus, triggerStatus, suggestMessageTypes, suggestTriggers } from '../dictionaries/hl7.ts';
import { checkFhirType, checkSearchParamName } from './fhir-checks.ts';
import { isTimeZone, timeZoneNames } from './time-zones.ts';
import { checkPatchBody } from './fhir-patch.ts';
import { lowerResponse } from './response-shape.ts';
import { checkUrl } from './url-checks.ts';
import { checkFhirBody } from './fhir-body-checks.ts';
import { lowerValueMap, mapOutputs, resolveValueMap } from './value-maps.ts';

export interface PlanParts {
  auths: P.Auth[];
  apis: P.Api[];
  senders: P.Sender[];
  workflows: P.Workflow[];
  launches: P.Launch[];
  tests: P.TestCase[];
}

export interface Analysis { parts: PlanParts; symbols: SymbolTable }

const DEFAULT_TIMEOUT_MS = 30_000;
// An API's retry policy (docs/language.md, "Retries"); the runtime's defaults are the same.
const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 30_000;
const DEFAULT_MAX_BACKOFF_MS = 30 * 60_000;
const FIELD_BUILTINS = ['message'];

export function analyze(files: A.SourceFile[], diagnostics: Diagnostic[], fileExists: (path: string) => boolean, options: AnalyzeOptions = {}): Analysis {
  const symbols = new SymbolTable();
  const root = new Reporter('', diagnostics, options);
  for (const f of files) root.addText(f.file, f.text);
  const parts: PlanParts = { auths: [], apis: [], senders: [], workflows: [], launches: [], tests: [] };

  // 1. Declarations.
  const declKinds: Record<string, SymbolKind> = { auth: 'auth', api: 'api', sender: 'sender', workflow: 'workflow', launch: 'launch', test: 'test', map: 'map' };
  for (const f of files) {
    const r = root.for(f.file);
    for (const d of f.decls) {
      if (d.kind === 'import') continue;
      const name = d.kind === 'test' ? { name: d.name.value, range: d.name.range } : d.name;
      const prior = symbols.declareTop({ kind: declKinds[d.kind], name: name.name, file: f.file, range: name.range, declRange: d.range });
      if (prior) {
        r.error('HDC2002', name.range, `${d.kind} "${name.name}" is declared twice`,
          `The first declaration is at ${prior.file}:${prior.range.start.line}. Rename one of them.`);
      }
    }
  }

  const refTop = (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what = kind): Declaration | undefined => {
    const d = symbols.lookup(kind, id.name);
    if (d) { symbols.refer(id.name, file, id.range, d); return d; }
    const near = closest(id.name, symbols.names(kind), 1);
    r.error('HDC2001', id.range, `unknown ${what} "${id.name}"`,
      near.length ? `Did you mean "${near[0]}"?` : `Declared: ${symbols.names(kind).join(', ') || `no ${what} yet`}.`,
      near.map((n) => ({ replacement: n, range: id.range })));
    return undefined;
  };

  const apiKinds = new Map<string, string>();
  for (const f of files) for (const d of f.decls) if (d.kind === 'api') apiKinds.set(d.name.name, d.apiKind.name);
  const apiFormats = new Map<string, string>();
  for (const f of files) for (const d of f.decls) if (d.kind === 'api') {
    const format = d.settings.find((x) => x.key.name === 'format');
    apiFormats.set(d.name.name, (format && S.settingString([format])) ?? 'json');
  }
  const senders = files.flatMap((f) => f.decls.filter((d): d is A.SenderDecl => d.kind === 'sender').map((d) => ({ d, file: f.file })));

  // Value maps first: senders and workflows copy them where they are used.
  for (const f of files) for (const d of f.decls) if (d.kind === 'map') lowerValueMap(d, root.for(f.file), symbols, (range) => srcOf(f.file, range));

  // 2. Lower each declaration.
  for (const f of files) {
    const r = root.for(f.file);
    const src = (range: A.Range) => srcOf(f.file, range);
    for (const d of f.decls) {
      switch (d.kind) {
        case 'import': case 'map': break;
        case 'auth': { const a = lowerAuth(d, f.file, r, src); if (a) parts.auths.push(a); break; }
        case 'api': { const a = lowerApi(d, f.file, r, src, (id) => refTop(r, f.file, 'auth', id)); if (a) parts.apis.push(a); break; }
        case 'sender': parts.senders.push(lowerSender(d, f.file, r, src, symbols, (id) => refTop(r, f.file, 'workflow', id))); break;
        case 'workflow': {
          const routedBy = senders.filter((s) => s.d.routes.some((rt) => rt.workflow.name === d.name.name));
          parts.workflows.push(lowerWorkflow(d, f.file, r, src, symbols, routedBy, apiKinds, refTop, apiFormats));
          break;
        }
        case 'launch': parts.launches.push(lowerLaunch(withBase(d, f.decls, r), f.file, r, src, symbols)); break;
        case 'test': parts.tests.push(lowerTest(d, f.file, r, src, symbols, refTop, fileExists)); break;
      }
    }
  }
  warnSharedPaths(senders, parts.senders, root);
  return { parts, symbols };
}

// ---- senders sharing a path --------------------------------------------------------------------
/** Where a predicate reads: MSH-4 and MSH-4.1 read the same value (the first leaf). */
function predicateKey(p: P.Hl7Path): string {
  return `${p.segment}-${p.field ?? 0}[${p.fieldRep ?? 1}].${p.component ?? 1}.${p.subcomponent ?? 1}`;
}

/** False only when some MSH position the two senders both test cannot satisfy both. */
function predicatesOverlap(a: P.MshPredicate[], b: P.MshPredicate[]): boolean {
  for (const pa of a) {
    for (const pb of b) {
      if (predicateKey(pa.path) !== predicateKey(pb.path)) continue;
      if (pa.op === '==' && pb.op === '==' && !pa.values.some((v) => pb.values.includes(v))) return false;
      if (pa.op === '==' && pb.op === '!=' && pa.values.every((v) => pb.values.includes(v))) return false;
      if (pa.op === '!=' && pb.op === '==' && pb.values.every((v) => pa.values.includes(v))) return false;
    }
  }
  return true;
}

/** Two identities no single request can present (different Basic users, fingerprints or subjects). */
function identitiesExclusive(a: P.Identity, b: P.Identity): boolean {
  if (a.kind !== b.kind) return a.kind !== 'none' && b.kind !== 'none';
  if (a.kind === 'basic') return typeof a.user === 'string' && typeof b.user === 'string' && a.user !== b.user;
  if (a.kind === 'client_cert') {
    const fp = (x?: string) => x?.replace(/:/g, '').toLowerCase();
    if (a.fingerprint && b.fingerprint && fp(a.fingerprint) !== fp(b.fingerprint)) return true;
    // "CN=lab" and "CN=clinic": one certificate subject does not hold both.
    return !!a.subject && !!b.subject && !a.subject.includes(b.subject) && !b.subject.includes(a.subject);
  }
  return false;
}

/**
 * HDC3009: senders on one path are told apart by identity, then by their MSH predicates; the
 * first that matches decodes the body (charset, line_endings, max_body). Warn when two could match
 * the same message, so the second's settings would never apply to it.
 */
function warnSharedPaths(decls: Array<{ d: A.SenderDecl; file: string }>, senders: P.Sender[], root: Reporter): void {
  const norm = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  for (let j = 1; j < senders.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = senders[i]!;
      const b = senders[j]!;
      if (norm(a.path) !== norm(b.path) || identitiesExclusive(a.identity, b.identity) || !predicatesOverlap(a.match, b.match)) continue;
      const decl = decls[j]!;
      const pathSetting = decl.d.settings.find((x) => x.key.name === 'path');
      root.for(decl.file).warning('HDC3009', pathSetting?.range ?? decl.d.name.range,
        `senders ${a.name} and ${b.name} share the path "${b.path}" and their match predicates can both hold for one message`,
        `${a.name}, declared first, takes such a message and decodes it with its own charset, line_endings and max_body. Tell them apart with a match on the MSH (e.g. match MSH-4 == "…"), or give each its own path.`);
      break;
    }
  }
}

// ---- auth and api ------------------------------------------------------------------------------
function lowerAuth(d: A.AuthDecl, file: string, r: Reporter, src: (r: A.Range) => string): P.Auth | undefined {
  const spec = S.authSpecs[d.authKind.name];
  if (!spec) {
    const near = closest(d.authKind.name, Object.keys(S.authSpecs), 1);
    r.error('HDC2007', d.authKind.range, `unknown auth kind "${d.authKind.name}"`, `Use one of ${Object.keys(S.authSpecs).join(', ')}.`,
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

function lowerApi(d: A.ApiDecl, file: string, r: Reporter, src: (r: A.Range) => string, refAuth: (id: A.Ident) => unknown): P.Api | undefined {
  const kind = d.apiKind.name;
  if (!['fhir', 'rest', 'hl7'].includes(kind)) {
    const near = closest(kind, ['fhir', 'rest', 'hl7'], 1);
    r.error('HDC2007', d.apiKind.range, `unknown API kind "${kind}"`, 'Use fhir, rest or hl7.', near.map((n) => ({ replacement: n, range: d.apiKind.range })));
    return undefined;
  }
  if (!['string', 'env', 'file'].includes(d.baseUrl.kind)) {
    r.error('HDC2007', d.baseUrl.range, 'the API base URL must be a "string" or env("NAME")', 'Write: api ehr fhir "https://ehr.example.org/R4"');
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
  if (validate && kind !== 'fhir') r.error('HDC2007', validate.range, '"validate" applies to fhir APIs', 'Remove it: only FHIR request bodies are validated.');
  else if (validate) api.validate = S.settingString([validate]) as P.Api['validate'];
  const authSetting = s.get('auth')?.[0];
  if (authSetting && authSetting.values[0]?.kind === 'name') {
    const id = { name: authSetting.values[0].name, range: authSetting.values[0].range };
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
    r.error('HDC2007', retry.values[0].range, `"retry" takes the number of attempts in all, 1 or more (got ${attempts})`,
      'retry 1 tries once and never again; retry 5 tries up to five times.', [{ replacement: '1', range: retry.values[0].range }]);
    return { attempts: 1, backoffMs, maxBackoffMs };
  }
  const max = s.get('max')?.[0];
  if (max && maxBackoffMs < backoffMs) {
    r.error('HDC2007', max.values[0].range, `"max" (${max.values[0].kind === 'duration' ? max.values[0].text : maxBackoffMs + 'ms'}) is shorter than "backoff"`,
      'max caps the wait between attempts, which starts at backoff: make it at least as long.');
  }
  return { attempts, backoffMs, maxBackoffMs };
}

// ---- sender ------------------------------------------------------------------------------------
function lowerSender(d: A.SenderDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable, refWorkflow: (id: A.Ident) => unknown): P.Sender {
  const s = S.readSettings(d.settings, S.senderSpec, `sender ${d.name.name}`, r, d.name.range);
  const versionSetting = s.get('version')?.[0];
  const version = S.settingString(s.get('version'));
  let dictVersion: string | undefined;
  if (version !== undefined) {
    const resolved = resolveHl7Version(version);
    if (!resolved) r.error('HDC3004', versionSetting!.values[0].range, unknownHl7VersionMessage(version), 'Declare the version the partner sends, e.g. version "2.5.1".');
    else {
      dictVersion = resolved.version;
      if (resolved.fallbackFrom) r.info('HDC3004', versionSetting!.values[0].range, `HL7 ${version} paths are checked against ${resolved.version}`, 'The bundled dictionary stops at 2.7.1; 2.8 adds few fields.');
    }
  }
  const checkPath = (atom: A.Atom & { kind: 'hl7path' }) => {
    if (!dictVersion) return;
    const c = checkHl7Path(dictVersion, atom.path);
    if (c.ok) return;
    const code = c.part === 'segment' ? 'HDC3001' : c.part === 'field' ? 'HDC3002' : c.part === 'repetition' ? 'HDC3006' : c.part === 'version' ? 'HDC3004' : 'HDC3003';
    // Keep what follows the corrected part: PID-55.1 → PID-5.1.
    const rest = c.part === 'field' ? atom.path.text.replace(/^[A-Z0-9]{3}(\[[^\]]*\])?-\d+/, '') : c.part === 'segment' ? atom.path.text.slice(3) : '';
    const suggestions = c.replacements.map((text) => ({ replacement: text + rest, range: atom.range }));
    const detail = c.suggestions.length ? `Did you mean ${c.suggestions.join(', or ')}?` : 'Check the path against the sender\'s HL7 version.';
    r.report(c.warning ? 'warning' : 'error', code, atom.range, c.message.replace(/; did you mean .*$/, ''), detail, suggestions);
  };

  // Identity
  const idSetting = s.get('identity')?.[0];
  const identity: P.Identity = { kind: (S.settingString(s.get('identity')) as P.Identity['kind']) ?? 'none' };
  if (idSetting) {
    identity.src = src(idSetting.range);
    for (const b of idSetting.block ?? []) {
      const a = b.values[0];
      if (!a) continue;
      if (b.key.name === 'subject' || b.key.name === 'san' || b.key.name === 'fingerprint') {
        if (a.kind === 'string') identity[b.key.name] = a.value;
      } else if (b.key.name === 'user' || b.key.name === 'password') identity[b.key.name] = S.toValue(a, file, src);
    }
    if (identity.kind === 'client_cert' && !identity.subject && !identity.san && !identity.fingerprint) {
      r.error('HDC2006', idSetting.range, 'identity client_cert needs subject, san or fingerprint',
        'Bind the sender to its certificate: identity client_cert { subject "CN=partner" }');
    }
    if (identity.kind === 'basic' && (!identity.user || !identity.password)) {
      r.error('HDC2006', idSetting.range, 'identity basic needs user and password', 'Write: identity basic { user env("PARTNER_USER") password env("PARTNER_PASS") }');
    }
  }

  // Message types
  const msgTypes = (atoms: A.Atom[]): P.MessageType[] => atoms.map((a) => {
    if (a.kind === 'star') return { code: '*', trigger: '*' };
    const m = a as A.Atom & { kind: 'msgtype' };
    if (dictVersion) {
      if (m.code !== '*' && messageTypeStatus(dictVersion, m.code) === 'unknown') {
        const near = suggestMessageTypes(dictVersion, m.code);
        r.error('HDC3005', m.range, `unknown message type ${m.code} in HL7 ${version}`, near.length ? `Did you mean ${near.join(', ')}?` : 'Check MSH-9.1.',
          near.slice(0, 1).map((n) => ({ replacement: `${n}^${m.trigger}`, range: m.range })));
      } else if (m.trigger !== '*' && triggerStatus(dictVersion, m.trigger) === 'unknown') {
        const near = suggestTriggers(dictVersion, m.trigger);
        r.error('HDC3005', m.range, `unknown trigger event ${m.trigger} in HL7 ${version}`, near.length ? `Did you mean ${near.join(', ')}?` : 'Check MSH-9.2.',
          near.slice(0, 1).map((n) => ({ replacement: `${m.code}^${n}`, range: m.range })));
      }
    }
    return { code: m.code, trigger: m.trigger };
  });
  const accept = msgTypes(s.get('accept')?.[0].values ?? []);
  const covers = (a: P.MessageType, t: P.MessageType) => (a.code === '*' || a.code === t.code) && (a.trigger === '*' || a.trigger === t.trigger);

  // Matches
  const match: P.MshPredicate[] = d.matches.map((m) => {
    checkPath(m.path);
    if (m.path.path.segment !== 'MSH') {
      r.error('HDC2007', m.path.range, 'match reads the MSH segment only', 'Senders are recognised by header fields such as MSH-3, MSH-4, MSH-11, MSH-12.');
    }
    return { path: m.path.path, op: m.op, values: m.values.map((v) => v.value) as P.MshPredicate['values'], src: src(m.range) };
  });

  // Fields
  const lowerField = (f: A.FieldDecl, container: string, groupSeg?: string): P.FieldMapping => {
    symbols.declare({ kind: 'field', name: f.name.name, file, range: f.name.range, declRange: f.range, container });
    if (f.each) {
      const seg = f.each.name;
      if (!/^[A-Z][A-Z0-9]{2}$/.test(seg)) r.error('HDC1005', f.each.range, `"${seg}" is not a segment name`, 'Write a segment code: each OBX { … }');
      else if (dictVersion) checkPath({ kind: 'hl7path', path: { text: seg, segment: seg }, range: f.each.range });
      const fields = (f.fields ?? []).map((x) => lowerField(x, `${container}.${f.name.name}`, seg));
      const decl = symbols.declarations[symbols.declarations.length - 1 - countDecls(f.fields ?? [])];
      decl.type = 'records';
      decl.keys = (f.fields ?? []).map((x) => x.name.name);
      return { name: f.name.name, each: seg, fields, type: 'records', src: src(f.range) };
    }
    const m: P.FieldMapping = { name: f.name.name, type: 'string', src: src(f.range) };
    if (!f.path) return m;
    checkPath(f.path);
    m.path = f.path.path;
    const list = f.path.path.segmentRep === '*' || f.path.path.fieldRep === '*';
    if (groupSeg && f.path.path.segment === groupSeg && f.path.path.segmentRep !== undefined) {
      r.warning('HDC6001', f.path.range, `inside each ${groupSeg}, ${groupSeg} paths read the current repetition`, `Drop the [${f.path.path.segmentRep}].`);
    }
    if (f.where) {
      if (!list) r.error('HDC6001', f.where.range, 'where filters the repetitions of a path with [*]', `Write ${f.path.path.text.replace(/^(\w{3}(?:\[[^\]]+\])?-\d+)/, '$1[*]')} where …`);
      const ctx: ExprContext = { file, r, symbols, vars: new Map(), rel: true, src };
      m.where = lowerExpr(f.where, ctx).expr;
    }
    if (f.select) m.select = f.select.components as P.FieldMapping['select'];
    // `where` picks the first matching repetition; `as list` keeps every match.
    const conversions = ['string', 'number', 'date', 'datetime', 'raw', 'list'];
    let many = list && (!f.where || f.as?.name === 'list');
    let type: P.ValueType = many ? 'list' : 'string';
    if (f.as) {
      const conv = f.as.name;
      if (!conversions.includes(conv)) {
        const near = closest(conv, conversions, 1);
        r.error('HDC6003', f.as.range, `unknown conversion "${conv}"`, 'Use as string, number, date, datetime, raw or list.', near.map((n) => ({ replacement: n, range: f.as!.range })));
      } else if (conv === 'list') {
        if (!list) r.error('HDC6003', f.as.range, '"as list" needs a path with [*]', `Write ${f.path.path.text.replace(/^(\w{3}(?:\[[^\]]+\])?-\d+)/, '$1[*]')} … as list`);
        many = list;
        type = many ? 'list' : 'string';
      } else {
        m.as = conv as P.FieldMapping['as'];
        if (!many) type = conv === 'raw' ? 'string' : (conv as P.ValueType);
      }
    }
    m.type = type;
    const decl = symbols.declarations[symbols.declarations.length - 1];
    decl.type = type;
    if (f.map) {
      const vm = resolveValueMap(f.map, r, symbols, file);
      if (vm) { m.map = vm; decl.valueMap = vm.name; }
    }
    return m;
  };
  const fields = d.fields.map((f) => lowerField(f, d.name.name));
  const seen = new Set<string>();
  for (const f of d.fields) {
    if (seen.has(f.name.name)) r.error('HDC2002', f.name.range, `field "${f.name.name}" is mapped twice`, 'Rename one of them.');
    if (FIELD_BUILTINS.includes(f.name.name)) r.error('HDC2002', f.name.range, `"${f.name.name}" is a built-in name`, 'Choose another field name.');
    seen.add(f.name.name);
  }

  // Routes
  const routes: P.Route[] = d.routes.map((rt) => {
    const types = msgTypes(rt.types);
    rt.types.forEach((t, i) => {
      if (!accept.some((a) => covers(a, types[i]))) {
        r.error('HDC3007', t.range, `${t.kind === 'star' ? '*' : (t as { text: string }).text} is routed but not accepted`,
          'Add it to the sender\'s accept list, or remove it from this route.');
      }
    });
    refWorkflow(rt.workflow);
    return { types: types as P.Route['types'], workflow: rt.workflow.name, src: src(rt.range) };
  });
  if (routes.length) {
    for (const [i, a] of accept.entries()) {
      if (!routes.some((rt) => rt.types.some((t) => covers(t, a) || covers(a, t)))) {
        const atom = s.get('accept')![0].values[i];
        r.info('HDC3008', atom.range, `${a.code}^${a.trigger} is accepted but no workflow runs for it`, 'Such messages are journaled and acknowledged only. Add an `on … run` route if they need processing.');
      }
    }
  }

  const pathSetting = S.settingString(s.get('path')) ?? '/';
  if (!pathSetting.startsWith('/')) r.error('HDC2007', s.get('path')![0].values[0].range, 'the sender path must start with "/"', `Write: path "/${pathSetting}"`);
  const ack = s.get('ack')?.[0];
  const sender: P.Sender = {
    name: d.name.name,
    path: pathSetting.startsWith('/') ? pathSetting : '/' + pathSetting,
    match,
    identity,
    accept: (accept.length ? accept : [{ code: '*', trigger: '*' }]) as P.Sender['accept'],
    segmentBreaks: (S.settingString(s.get('line_endings')) as P.Sender['segmentBreaks']) ?? 'cr',
    ack: { mode: (S.settingString(s.get('ack')) as 'on_receive') ?? 'on_receive' },
    fields,
    routes,
    src: src(d.range),
  };
  if (version !== undefined) sender.version = version;
  if (S.settingString(s.get('strict_version')) === 'true') sender.strictVersion = true;
  const pids = S.settingStrings(s.get('processing_ids'));
  if (pids.length) sender.processingIds = pids;
  const charset = S.settingString(s.get('charset'));
  if (charset) sender.charset = charset;
  const timezone = s.get('timezone')?.[0]?.values[0];
  if (timezone?.kind === 'string') {
    if (isTimeZone(timezone.value)) sender.timezone = timezone.value;
    else {
      const near = closest(timezone.value, timeZoneNames(), 1);
      r.error('HDC2007', timezone.range, `unknown time zone "${timezone.value}"`,
        'Use an IANA time zone name such as "Europe/London" or "America/New_York" (an offset like "+01:00" does not follow daylight saving time).',
        near.map((n) => ({ replacement: JSON.stringify(n), range: timezone.range })));
    }
  }
  if (sender.ack.mode === 'after_workflow') sender.ack.timeoutMs = S.settingDuration(s.get('ack'), 1) ?? 10_000;
  else if (ack && ack.values[1]) r.error('HDC2007', ack.values[1].range, 'a timeout only applies to ack after_workflow', 'Remove it, or write: ack after_workflow 10s');
  if (sender.ack.mode === 'after_workflow' && !routes.length) r.error('HDC2007', ack!.range, 'ack after_workflow needs a route', 'Add `on TYPE run WORKFLOW`, or use ack on_receive.');
  const maxBody = S.settingNumber(s.get('max_body'));
  if (maxBody !== undefined) sender.maxBodyBytes = maxBody;
  if (S.settingString(s.get('control_id_reuse')) === 'reject') sender.controlIdReuse = 'reject';
  const required = requiredPositions(s.get('require'), checkPath, r);
  if (required.length) sender.require = required;
  return sender;
}

/** `require PID, PID-3`: segment names and paths to one position each, checked like mapped paths. */
function requiredPositions(setting: A.Setting[] | undefined, checkPath: (p: A.Atom & { kind: 'hl7path' }) => void, r: Reporter): P.Hl7Path[] {
  const out: P.Hl7Path[] = [];
  for (const a of setting?.[0].values ?? []) {
    const atom: A.Atom & { kind: 'hl7path' } | undefined = a.kind === 'hl7path' ? a
      : a.kind === 'name' ? { kind: 'hl7path', path: { text: a.name, segment: a.name }, range: a.range } : undefined;
    if (!atom) continue;
    const p = atom.path;
    if (p.segmentRep === '*' || p.fieldRep === '*') {
      r.error('HDC2007', atom.range, `require names one position, not a list: ${p.text}`, `Write the position without [*]: ${p.text.replace(/\[\*\]/g, '')}`,
        [{ replacement: p.text.replace(/\[\*\]/g, ''), range: atom.range }]);
      continue;
    }
    checkPath(atom);
    out.push(p);
  }
  return out;
}

function countDecls(fields: A.FieldDecl[]): number {
  return fields.reduce((n, f) => n + 1 + countDecls(f.fields ?? []), 0);
}

// ---- workflows ---------------------------------------------------------------------------------
interface BodyContext {
  file: string;
  r: Reporter;
  symbols: SymbolTable;
  container: string;
  src: (r: A.Range) => string;
  apiKinds: Map<string, string>;
  /** rest APIs' response formats (json, text, xml). */
  apiFormats?: Map<string, string>;
  refApi?: (id: A.Ident) => unknown;
  ids: Set<string>;
  counters: Record<string, number>;
  /** Launch fetch blocks use the launch's token: no API is named. */
  launch?: boolean;
}

function lowerWorkflow(
  d: A.WorkflowDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable,
  routedBy: Array<{ d: A.SenderDecl; file: string }>, apiKinds: Map<string, string>,
  refTop: (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what?: SymbolKind) => Declaration | undefined,
  apiFormats?: Map<string, string>,
): P.Workflow {
  const s = S.readSettings(d.settings, S.workflowSpec, `workflow ${d.name.name}`, r, d.name.range);
  if (!routedBy.length) {
    r.warning('HDC2008', d.name.range, `workflow "${d.name.name}" is never run`, 'No sender routes a message type to it: add `on TYPE run ' + d.name.name + '` to a sender, or remove it.');
  }
  // Fields visible: those every routing sender maps.
  const vars = new Map<string, VarInfo>();
  const missing = new Map<string, string>();
  const fieldDecls = new Map<string, Declaration>();
  for (const s of routedBy) for (const decl of symbols.fieldsOf(s.d.name.name)) fieldDecls.set(`${decl.container}:${decl.name}`, decl);
  const allNames = new Set([...fieldDecls.values()].map((x) => x.name));
  for (const name of allNames) {
    const lacking = routedBy.find((s) => !fieldDecls.has(`${s.d.name.name}:${name}`));
    const decl = [...fieldDecls.values()].find((x) => x.name === name)!;
    if (lacking) missing.set(name, lacking.d.name.name);
    else vars.set(name, { decl, type: decl.type ?? 'any', keys: decl.keys });
  }
  vars.set('message', builtin('message', file, 'record', ['type', 'trigger', 'controlId', 'version', 'receivedAt', 'sender']));

  const ctx: BodyContext = { file, r, symbols, container: d.name.name, src, apiKinds, apiFormats, ids: new Set(), counters: {}, refApi: (id) => refTop(r, file, 'api', id) };
  const firstRef = symbols.references.length;
  const steps = lowerBody(d.body, ctx, vars, d.range.end.offset, missing);
  const used = new Set<string>();
  for (const ref of symbols.references.slice(firstRef)) if (ref.target.kind === 'field') used.add(ref.name);
  const wf: P.Workflow = { name: d.name.name, inputs: [...used].sort(), steps, src: src(d.range) };
  const conc = S.settingNumber(s.get('concurrency'));
  if (conc !== undefined) wf.concurrency = conc;
  const ob = s.get('order_by')?.[0]?.values[0];
  if (ob?.kind === 'name') {
    const ectx: ExprContext = { file, r, symbols, vars, src };
    wf.orderBy = lowerExpr({ kind: 'ref', name: ob.name, range: ob.range }, ectx).expr;
  }
  return wf;
}

/** Loop variables are visible inside their loop only. */
const isLoopVar = (d: Declaration) => d.kind === 'variable' && d.detail === 'loop';

function builtin(name: string, file: string, type: P.ValueType, keys?: string[]): VarInfo {
  const none = { line: 0, col: 0, offset: -1 };
  return { decl: { kind: 'variable', name, file, range: { start: none, end: none }, declRange: { start: none, end: none }, type, detail: 'built-in' }, type, keys };
}

/** Names a body defines, with the index of the top-level statement defining them. */
function definedNames(body: A.Stmt[], file: string): Map<string, { index: number; decl: Declaration }> {
  const out = new Map<string, { index: number; decl: Declaration }>();
  const visit = (stmts: A.Stmt[], index: number) => {
    for (const st of stmts) {
      if (st.kind === 'request' && st.target && !out.has(st.target.name)) out.set(st.target.name, { index, decl: { kind: 'step', name: st.target.name, file, range: st.target.range, declRange: st.range } });
      if (st.kind === 'let' && !st.assign && !out.has(st.name.name)) out.set(st.name.name, { index, decl: { kind: 'variable', name: st.name.name, file, range: st.name.range, declRange: st.range } });
      if (st.kind === 'if') { visit(st.then, index); visit(st.else ?? [], index); }
      if (st.kind === 'for') visit(st.body, index);
    }
  };
  body.forEach((st, i) => visit([st], i));
  return out;
}

function lowerBody(body: A.Stmt[], ctx: BodyContext, outer: Map<string, VarInfo>, scopeEnd: number, missing = new Map<string, string>()): P.Step[] {
  const vars = new Map(outer);
  const steps: P.Step[] = [];
  const defined = definedNames(body, ctx.file);
  body.forEach((st, i) => {
    // Steps defined later in this body: for "used before the step that defines it".
    const later = { get: (name: string) => { const d = defined.get(name); return d && d.index > i ? d.decl : undefined; } };
    const ectx: ExprContext = { file: ctx.file, r: ctx.r, symbols: ctx.symbols, vars, later, src: ctx.src };
    // Names mapped by some routing senders only: explain which sender lacks them.
    const reportMissing = (e: A.Expr | undefined) => e && walkRefs(e, (ref) => {
      if (!vars.has(ref.name) && missing.has(ref.name)) {
        ctx.r.error('HDC2001', ref.range, `"${ref.name}" is not mapped by sender ${missing.get(ref.name)}`,
          `Every sender that routes to this workflow must map "${ref.name}": add it to sender ${missing.get(ref.name)}'s fields.`);
        vars.set(ref.name, { decl: { kind: 'field', name: ref.name, file: ctx.file, range: ref.range, declRange: ref.range }, type: 'any' });
      }
    });
    if (missing.size) forEachExpr(st, reportMissing);
    const step = lowerStmt(st, ctx, vars, ectx, scopeEnd);
    if (step) steps.push(step);
  });
  return steps;
}

/** Whether an if statement gives `name` a value on every path through it. */
function assignedIn(st: A.IfStmt, name: string): boolean {
  const sets = (body: A.Stmt[] | undefined): boolean => (body ?? []).some((s) => (s.kind === 'let' && s.assign && s.name.name === name) || (s.kind === 'if' && assignedIn(s, name)));
  return sets(st.then) && sets(st.else);
}

function walkRefs(e: A.Expr, f: (r: A.RefExpr) => void): void {
  switch (e.kind) {
    case 'ref': f(e); break;
    case 'member': walkRefs(e.object, f); break;
    case 'index': walkRefs(e.object, f); break;
    case 'call': e.args.forEach((a) => walkRefs(a, f)); break;
    case 'binary': walkRefs(e.left, f); walkRefs(e.right, f); break;
    case 'unary': walkRefs(e.operand, f); break;
    case 'object': e.entries.forEach((en) => walkRefs(en.value, f)); break;
    case 'array': e.items.forEach((a) => walkRefs(a, f)); break;
    case 'template': e.parts.forEach((p) => typeof p !== 'string' && walkRefs(p, f)); break;
  }
}
function forEachExpr(st: A.Stmt, f: (e: A.Expr | undefined) => void): void {
  switch (st.kind) {
    case 'request': [st.id, st.params, st.conditional, st.urlPath, st.query, st.headers, st.body].forEach(f); break;
    case 'if': f(st.cond); break;
    case 'for': f(st.over); break;
    case 'let': f(st.value); break;
    case 'store': f(st.value); f(st.key); break;
    case 'send': if (st.value !== 'message') f(st.value); f(st.urlPath); break;
    case 'reject': f(st.text); break;
  }
}

function stepId(ctx: BodyContext, base: string): string {
  let id = base;
  for (let n = 2; ctx.ids.has(id); n++) id = `${base}_${n}`;
  ctx.ids.add(id);
  return id;
}

function lowerStmt(st: A.Stmt, ctx: BodyContext, vars: Map<string, VarInfo>, ectx: ExprContext, scopeEnd: number): P.Step | undefined {
  const { r, src } = ctx;
  const ex = (e: A.Expr) => lowerExpr(e, ectx);
  // Unnamed steps are numbered per kind in source order, so reformatting never renames them.
  const autoId = (verb: string) => stepId(ctx, `${verb}_${(ctx.counters[verb] = (ctx.counters[verb] ?? 0) + 1)}`);
  const define = (name: A.Ident, kind: 'step' | 'variable', info: Partial<Declaration> & { type: P.ValueType }) => {
    const decl: Declaration = { kind, name: name.name, file: ctx.file, range: name.range, declRange: st.range, container: ctx.container, visible: { from: st.range.end.offset, to: scopeEnd }, ...info };
    ctx.symbols.declare(decl);
    const prior = vars.get(name.name);
    if (prior && prior.decl.detail !== 'built-in') {
      r.error('HDC2002', name.range, `"${name.name}" is already defined`, `It was defined at line ${prior.decl.range.start.line}; choose another name.`);
    } else if (prior?.decl.detail === 'built-in') {
      r.error('HDC2002', name.range, `"${name.name}" is a built-in name`, 'Choose another name.');
    }
    vars.set(name.name, { decl, type: info.type, keys: info.keys });
  };

  switch (st.kind) {
    case 'error': return undefined;
    case 'request': {
      const apiKind = st.api ? ctx.apiKinds.get(st.api.name) : undefined;
      if (st.api) ctx.refApi?.(st.api);
      else if (!ctx.launch) {
        r.error('HDC2001', st.verbRange, `${st.verb} needs an API`, st.protocol === 'fhir' ? `Write: ${st.verb} API ${st.resourceType?.name ?? 'Type'} …` : 'Write the API name.');
      }
      if (ctx.launch && st.api) r.error('HDC2011', st.api.range, 'launch fetches use the launch\'s FHIR server and token', `Drop "${st.api.name}": write ${st.verb} ${st.resourceType?.name ?? ''} …`);
      const id = st.target ? stepId(ctx, st.target.name) : autoId(st.verb);
      let step: P.Step;
      if (st.protocol === 'fhir') {
        if (apiKind && apiKind !== 'fhir') r.error('HDC2011', st.api!.range, `"${st.api!.name}" is a ${apiKind} API; ${st.verb} is a FHIR interaction`, `Use get/post/put/patch/delete ${st.api!.name} "/path" for ${apiKind} APIs.`);
        const type = st.resourceType!;
        checkFhirType(type, r);
        const interaction: P.Step['interaction'] =
          st.verb === 'create' ? (st.conditional ? 'conditional_create' : 'create')
          : st.verb === 'update' ? (st.conditional ? 'conditional_update' : 'update')
          : st.verb === 'patch' ? (st.conditional ? 'conditional_patch' : 'patch')
          : (st.verb as 'read');
        step = { id, kind: 'fhir', interaction, resourceType: type.name, src: src(st.range) };
        if (st.api) step.api = st.api.name;
        if (st.id) step.resourceId = ex(st.id).expr;
        const params = st.params ?? st.conditional;
        if (params) {
          for (const en of params.entries) checkSearchParamName(type.name, en.key, en.keyRange, r);
          step.params = ex(params).expr;
        }
        if (st.pages) step.maxPages = st.pages.value;
        if (st.optional) optionalFetch(st.optional, step, Boolean(ctx.launch), r);
        if (st.verb === 'patch') checkPatchBody(type.name, st.body, r);
        if (st.response) r.error('HDC2011', st.response.range, 'FHIR steps answer with resources; response declarations are for rest APIs', 'Remove the response block: read the resource\'s elements directly.');
        if (st.body) {
          step.body = ex(st.body).expr;
          if (st.verb !== 'patch') {
            checkFhirBody(type.name, st.body, st.verb === 'create' || st.verb === 'update', type.range,
              { r, typeOf: (name) => vars.get(name)?.type, mapOf: (name) => vars.get(name)?.decl.valueMap, mapOutputs: (name) => mapOutputs(ctx.symbols, name) });
          }
        }
      } else {
        const method = st.verb.toUpperCase() as P.Step['method'];
        step = { id, kind: 'rest', method, api: st.api!.name, urlPath: ex(st.urlPath!).expr, src: src(st.range) };
        if (apiKind === 'hl7') r.error('HDC2011', st.api!.range, `"${st.api!.name}" is an hl7 API`, 'Forward HL7 with: send message to ' + st.api!.name);
        if (st.query) step.query = ex(st.query).expr;
        if (st.headers) step.headers = ex(st.headers).expr;
        if (st.body) step.body = ex(st.body).expr;
      }
      let responseKeys: string[] | undefined;
      if (st.response && st.protocol === 'rest') {
        if (ctx.apiFormats?.get(st.api!.name) === 'text') {
          r.error('HDC6001', st.response.range, `"${st.api!.name}" answers with text, which has no fields`, `Declare format json or xml on api ${st.api!.name}, or remove the response block.`);
        }
        const shape = lowerResponse(st.response, r, src);
        step.response = shape.fields;
        responseKeys = shape.keys;
      }
      if (st.target) {
        step.named = true;
        // The same name in both branches of an if: two steps, one variable.
        if (id !== st.target.name) step.var = st.target.name;
        const search = st.protocol === 'fhir' && st.verb === 'search';
        define(st.target, 'step', { type: 'record', resourceType: st.resourceType?.name, search, keys: responseKeys, detail: `${st.verb} ${st.api?.name ?? ''} ${st.resourceType?.name ?? ''}`.replace(/\s+/g, ' ').trim() });
      }
      return step;
    }
    case 'if': {
      // A condition that reads a name set in only one branch of an earlier if tests it: inside the
      // condition and the branches, the name counts as checked.
      const guarded = new Map(vars);
      walkRefs(st.cond, (ref) => { const v = guarded.get(ref.name); if (v?.maybe) guarded.set(ref.name, { ...v, maybe: undefined }); });
      const cond = lowerExpr(st.cond, { ...ectx, vars: guarded });
      const firstDecl = ctx.symbols.declarations.length;
      const step: P.Step = { id: autoId('if'), kind: 'if', cond: cond.expr, then: lowerBody(st.then, ctx, guarded, scopeEnd), src: src(st.range) };
      if (st.else) step.else = lowerBody(st.else, ctx, guarded, scopeEnd);
      for (const [name, v] of vars) if (v.maybe && assignedIn(st, name)) vars.set(name, { ...v, maybe: undefined });
      // Names defined inside a branch stay visible after it, but unless both branches define them
      // they may be unset (null): a use must test them first (HDC2021).
      const inBranch = (decl: Declaration, body: A.Stmt[] | undefined) => (body ?? []).some((b) => b.range.start.offset <= decl.range.start.offset && decl.range.end.offset <= b.range.end.offset);
      const decls = ctx.symbols.declarations.slice(firstDecl).filter((d) => (d.kind === 'step' || d.kind === 'variable') && !isLoopVar(d));
      for (const decl of decls) {
        if (vars.has(decl.name)) continue;
        const both = decls.some((d) => d.name === decl.name && inBranch(d, st.then)) && decls.some((d) => d.name === decl.name && inBranch(d, st.else));
        vars.set(decl.name, { decl, type: decl.type ?? 'any', ...(both ? {} : { maybe: true }) });
      }
      return step;
    }
    case 'for': {
      const over = ex(st.over);
      if (['string', 'number', 'date', 'datetime', 'boolean'].includes(over.type)) {
        r.error('HDC6002', st.over.range, `for each needs a list; this is a ${over.type}`,
          'Iterate over a list: a field mapped with [*] or each, a search result\'s entry, or [a, b].');
      }
      const inner = new Map(vars);
      let keys: string[] | undefined;
      if (st.over.kind === 'ref') keys = vars.get(st.over.name)?.keys;
      const decl: Declaration = { kind: 'variable', detail: 'loop', name: st.variable.name, file: ctx.file, range: st.variable.range, declRange: st.range, container: ctx.container, visible: { from: st.variable.range.end.offset, to: st.range.end.offset }, type: keys ? 'record' : 'any', keys };
      ctx.symbols.declare(decl);
      inner.set(st.variable.name, { decl, type: decl.type!, keys });
      return { id: autoId('for_each'), kind: 'for_each', var: st.variable.name, over: over.expr, steps: lowerBody(st.body, ctx, inner, st.range.end.offset), src: src(st.range) };
    }
    case 'let': {
      const v = ex(st.value);
      const prior = vars.get(st.name.name);
      if (st.assign) {
        // `name = value`: a new value for a let variable defined before (or in an enclosing block).
        if (!prior) {
          lowerExpr({ kind: 'ref', name: st.name.name, range: st.name.range }, ectx);
        } else if (prior.decl.kind !== 'variable' || prior.decl.detail === 'loop' || prior.decl.detail === 'built-in') {
          const what = prior.decl.detail === 'loop' ? 'a loop variable' : prior.decl.detail === 'built-in' ? 'a built-in name' : `a ${prior.decl.kind}`;
          r.error('HDC2022', st.name.range, `"${st.name.name}" is ${what}, not a let variable`,
            `Only let variables take new values. Define one: let ${st.name.name}_value = …`);
        } else {
          ctx.symbols.refer(st.name.name, ctx.file, st.name.range, prior.decl);
          vars.set(st.name.name, { ...prior, type: prior.type === v.type ? v.type : 'any', maybe: undefined });
        }
        return { id: stepId(ctx, st.name.name), kind: 'let', var: st.name.name, value: v.expr, src: src(st.range) };
      }
      if (prior && prior.decl.kind === 'variable' && prior.decl.detail !== 'built-in') {
        r.error('HDC2020', st.name.range, `"${st.name.name}" is already defined`,
          `It was defined at line ${prior.decl.range.start.line}. To give it a new value, write ${st.name.name} = … without let; to keep both, choose another name.`,
          [{ replacement: '', range: { start: st.range.start, end: st.name.range.start }, label: 'Assign instead: drop let' }]);
        return { id: stepId(ctx, st.name.name), kind: 'let', var: st.name.name, value: v.expr, src: src(st.range) };
      }
      define(st.name, 'variable', { type: v.type });
      const letId = stepId(ctx, st.name.name);
      return { id: letId, named: true, kind: 'let', ...(letId !== st.name.name ? { var: st.name.name } : {}), value: v.expr, src: src(st.range) };
    }
    case 'store': {
      const step: P.Step = { id: autoId('store'), kind: 'store', value: ex(st.value).expr, collection: st.collection.value, src: src(st.range) };
      if (!/^[A-Za-z0-9_.-]+$/.test(st.collection.value)) r.error('HDC2007', st.collection.range, 'collection names use letters, digits, _ . and -', 'Rename the collection.');
      if (st.key) step.key = ex(st.key).expr;
      return step;
    }
    case 'send': {
      ctx.refApi?.(st.api);
      const kind = ctx.apiKinds.get(st.api.name);
      if (st.value === 'message' && kind === 'fhir') r.error('HDC2011', st.api.range, 'a FHIR API cannot take a raw HL7 message', 'Send it to an hl7 or rest API, or build a FHIR resource and create it.');
      if (st.value !== 'message' && kind === 'hl7') r.error('HDC2011', st.api.range, 'an hl7 API takes the HL7 message', `Write: send message to ${st.api.name}`);
      const step: P.Step = { id: autoId('send'), kind: 'send', api: st.api.name, payload: st.value === 'message' ? 'message' : 'value', src: src(st.range) };
      if (st.value !== 'message') step.value = ex(st.value).expr;
      if (st.urlPath) step.urlPath = ex(st.urlPath).expr;
      return step;
    }
    case 'reject': {
      if (st.code.name !== 'AE' && st.code.name !== 'AR') {
        r.error('HDC2007', st.code.range, `reject takes AE or AR, not ${st.code.name}`, 'AE: an error in the content; AR: rejected for a reason unrelated to content.',
          [{ replacement: 'AE', range: st.code.range }]);
      }
      return { id: autoId('reject'), kind: 'reject', code: st.code.name === 'AR' ? 'AR' : 'AE', text: ex(st.text).expr, src: src(st.range) };
    }
  }
}

// ---- SMART launches ----------------------------------------------------------------------------
function lowerLaunch(d: A.LaunchDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable): P.Launch {
  const s = S.readSettings(d.settings, S.launchSpec, `smart launch ${d.name.name}`, r, d.name.range);
  checkLaunchDecl(d, r);
  const v = (key: string) => { const st = s.get(key)?.[0]; return st ? S.toValue(st.values[0], file, src) : undefined; };
  const issuers = S.settingStrings(s.get('issuers'));
  for (const a of s.get('issuers')?.[0].values ?? []) checkUrl(r, a, 'an issuer');
  if (!issuers.length && !s.has('standalone')) {
    r.error('HDC5005', d.name.range, `smart launch ${d.name.name} has neither issuers nor standalone`, 'Add `issuers "https://ehr…/R4"` for EHR launch and/or `standalone "https://ehr…/R4"` for standalone launch.');
  }
  const vars = new Map<string, VarInfo>();
  vars.set('context', builtin('context', file, 'record', ['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant', 'fhirUser']));
  vars.set('scopes', builtin('scopes', file, 'record', ['granted', 'requested']));
  let login: P.Login | undefined;
  if (d.login) {
    const spec = S.loginSpecs[d.login.method.name];
    if (!spec) {
      const near = closest(d.login.method.name, Object.keys(S.loginSpecs), 1);
      r.error('HDC2007', d.login.method.range, `unknown login method "${d.login.method.name}"`, `Use ${Object.keys(S.loginSpecs).join(', ')}.`, near.map((n) => ({ replacement: n, range: d.login!.method.range })));
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
      r.error('HDC2007', st.range, `${st.kind} is not allowed in a launch fetch block`, 'A fetch block reads FHIR data: read, search, let and if.');
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
  if (s.has('session_key')) launch.sessionKey = v('session_key');
  if (login) launch.login = login;
  const scope = launch.scope.split(/\s+/);
  if (issuers.length && !scope.includes('launch')) r.warning('HDC2007', s.get('scope')?.[0].values[0].range ?? d.name.range, 'EHR launch needs the "launch" scope', 'Add "launch" to scope.');
  if (d.map) {
    launch.map = lowerExpr(d.map, ectx).expr;
    fetchVars.set('data', builtin('data', file, 'record', d.map.entries.map((e) => e.key)));
  }
  const sign = s.get('sign')?.[0];
  if (sign) launch.sign = { secret: S.toValue(sign.values[0], file, src), ttlSeconds: Math.round((S.settingDuration(s.get('sign'), 1) ?? 300_000) / 1000) };

  // Redirect targets: literal https URLs, and when `targets` is declared, members of it.
  const targets = S.settingStrings(s.get('targets'));
  for (const a of s.get('targets')?.[0].values ?? []) targetCheck(a as A.StringLit, r, undefined);
  const rule = (rd: A.RedirectRuleDecl): P.RedirectRule => {
    targetCheck(rd.to, r, targets.length ? targets : undefined);
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

function targetCheck(to: A.StringLit, r: Reporter, declared: string[] | undefined): void {
  let url: URL | undefined;
  try { url = new URL(to.value); } catch { /* reported below */ }
  if (url && loopbackHttpTarget(url, to, r)) { /* allowed in development, with a warning */ }
  else if (!url || url.protocol !== 'https:') {
    r.error('HDC5002', to.range, `redirect target ${to.raw} is not an absolute https URL`,
      'The browser may only be sent to absolute https:// URLs declared in the source (no open redirects).',
      url?.protocol === 'http:' ? [{ replacement: JSON.stringify(to.value.replace(/^http:/, 'https:')), range: to.range }] : []);
    return;
  }
  if (declared && !declared.includes(to.value)) {
    const near = closest(to.value, declared, 1);
    r.error('HDC5003', to.range, `redirect target ${to.raw} is not in the declared targets`,
      `Add it to \`targets\`, or use one of: ${declared.join(', ')}.`, near.map((n) => ({ replacement: JSON.stringify(n), range: to.range })));
  }
}

// ---- tests -------------------------------------------------------------------------------------
function lowerTest(
  d: A.TestDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable,
  refTop: (r: Reporter, file: string, kind: SymbolKind, id: A.Ident, what?: SymbolKind) => Declaration | undefined,
  fileExists: (path: string) => boolean,
): P.TestCase {
  const tc: P.TestCase = { name: d.name.value, mocks: [], expects: [], src: src(d.range) };
  const fixture = (f: A.StringLit | A.FileCall | A.Expr, json: boolean): P.Fixture => {
    if ('kind' in f && f.kind === 'file') {
      if (f.path.kind !== 'string') {
        r.error('HDC7002', f.path.range, 'test fixtures are plain paths', 'Write: file("fixtures/message.hl7")');
        return { text: '' };
      }
      const rel = joinPath(dirOf(file), f.path.value);
      if (!fileExists(rel)) r.error('HDC7002', f.path.range, `fixture ${f.path.raw} not found`, `Looked for ${rel}.`);
      return { file: rel };
    }
    if (f.kind === 'string') return { text: f.value };
    const ectx: ExprContext = { file, r, symbols, vars: new Map(), src };
    if (json) return { json: lowerExpr(f as A.Expr, ectx).expr };
    return { text: f.kind === 'literal' && typeof f.value === 'string' ? f.value : '' };
  };
  let senderName: string | undefined;
  for (const st of d.body) {
    switch (st.kind) {
      case 'error': break;
      case 'send':
        if (refTop(r, file, 'sender', st.sender)) senderName = st.sender.name;
        tc.send = { sender: st.sender.name, message: fixture(st.message, false), src: src(st.range) };
        break;
      case 'launch': {
        refTop(r, file, 'launch', st.launch);
        const ectx: ExprContext = { file, r, symbols, vars: new Map(), src };
        tc.launch = { name: st.launch.name, context: lowerExpr(st.context, ectx).expr, src: src(st.range) };
        if (st.user) tc.launch.user = lowerExpr(st.user, ectx).expr;
        break;
      }
      case 'mock': {
        const m: P.Mock = { status: st.status?.value ?? 200, response: st.returns ? fixture(st.returns as A.Expr, true) : { text: '' }, src: src(st.range) };
        if (st.api) { refTop(r, file, 'api', st.api); m.api = st.api.name; }
        if (st.step) {
          m.step = st.step.name;
          const known = symbols.declarations.some((x) => x.kind === 'step' && x.name === st.step!.name);
          if (!known) r.error('HDC7001', st.step.range, `no workflow has a step named "${st.step.name}"`, 'Mock a named step (name = get …), or mock by API and path.');
        }
        if (st.resourceType) { checkFhirType(st.resourceType, r); m.resourceType = st.resourceType.name; }
        if (st.urlPath) m.urlPath = st.urlPath.value;
        if (st.method) m.method = st.method.name.toUpperCase();
        tc.mocks.push(m);
        break;
      }
      case 'expect': {
        const e: P.Expectation = { kind: st.what, src: src(st.range) };
        const vars = new Map<string, VarInfo>();
        const bind = (name: string) => vars.set(name, builtin(name, file, 'any'));
        if (st.what === 'ack') {
          if (!['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].includes(st.code!.name)) r.error('HDC2007', st.code!.range, `unknown ACK code ${st.code!.name}`, 'Use AA, AE, AR, CA, CE or CR.');
          e.code = st.code!.name;
          if (st.text) e.text = st.text.value;
        }
        if (st.what === 'field') {
          e.name = st.name!.name;
          const known = symbols.declarations.find((x) => x.kind === 'field' && x.name === st.name!.name && (!senderName || x.container === senderName));
          if (!known) r.error('HDC7001', st.name!.range, `field "${st.name!.name}" is not mapped${senderName ? ` by sender ${senderName}` : ''}`, 'Expect a field the sender maps.');
          else symbols.refer(st.name!.name, file, st.name!.range, known);
          bind('value');
        }
        if (st.what === 'request' || st.what === 'no_request') {
          refTop(r, file, 'api', st.api!);
          e.api = st.api!.name;
          if (st.method) e.method = st.method.name.toUpperCase();
          if (st.urlPath) e.urlPath = st.urlPath.value;
          bind('request');
        }
        if (st.what === 'stored') { e.name = st.collection!.value; bind('records'); }
        if (st.what === 'redirect') { e.text = st.text!.value; bind('url'); bind('params'); }
        if (st.what === 'error_page') { e.text = st.text!.value; bind('status'); bind('text'); }
        if (st.cond) e.cond = lowerExpr(st.cond, { file, r, symbols, vars, src }).expr;
        tc.expects.push(e);
        break;
      }
    }
  }
  if (!tc.send && !tc.launch) r.error('HDC2006', d.name.range, `test ${d.name.raw} sends nothing`, 'Start with: send file("fixtures/message.hl7") to SENDER, or launch NAME with { patient: "…" }.');
  return tc;
}

const dirOf = (p: string) => posix.dirname(p);
/** A fixture path relative to its .hdc file; an absolute .hdc path keeps its leading "/". */
const joinPath = (dir: string, rel: string): string => (rel.startsWith('/') ? rel : posix.join(dir, rel));
