// What a reviewer needs to know about a plan, as plain data (already worded): who may send what,
// what is taken from each message, which requests every workflow makes and where, and every
// page a SMART launch may send the browser to. Markdown, text and JSON are renderings of this.
import { moduleDeclaration } from '../specs/module-spec.ts';
import type { Api, Auth, Expr, FieldMapping, Launch, MshPredicate, Plan, ResponseField, Sender, Step, TestCase, Value } from '../../plan/plan.types.ts';
import { exprText, valueText } from './expr-text.ts';
import { transformSummaries, type TransformSummary } from './transforms.ts';

/** One line of a nested list (workflow steps, login details). */
export interface Line {
  text: string;
  children?: Line[];
  /** An `if`'s other branch, written as an `else:` line after the children. */
  else?: Line[];
}

export interface Summary {
  compiler: string;
  hash: string;
  sources: string[];
  /** Where the runtime keeps its journal and queue, e.g. "postgres env(\"DATABASE_URL\")". */
  store: string;
  apis: Array<{ name: string; kind: string; baseUrl: string; auth?: string; timeout: string; retry: string; extra: string[] }>;
  auths: Array<{ name: string; kind: string; settings: Array<[string, string]> }>;
  senders: SenderSummary[];
  workflows: WorkflowSummary[];
  launches: LaunchSummary[];
  tests: Array<{ name: string; what: string }>;
  /** Module blocks (plan.modules), when the plan has any: their settings as written. */
  modules?: ModuleBlockSummary[];
  /** The project's transforms (the std library's are not listed) and what overrides change. */
  transforms?: TransformSummary[];
}

export interface ModuleBlockSummary { module: string; keyword: string; name?: string; from?: string; settings: Array<[string, string]> }

export interface SenderSummary {
  name: string;
  path: string;
  version?: string;
  identity: string;
  matches: string[];
  accepts: string[];
  ack: string;
  settings: Array<[string, string]>;
  fields: Array<{ name: string; from: string; conversion: string; type: string }>;
  routes: Array<{ types: string[]; workflow: string }>;
}

export interface WorkflowSummary {
  name: string;
  inputs: string[];
  calls: Array<{ api: string; kind: string; baseUrl: string }>;
  steps: Line[];
}

export interface Redirect { when: string; to: string; params: Array<[string, string]> }

export interface LaunchSummary {
  name: string;
  client: Array<[string, string]>;
  scopes: string[];
  issuers: string[];
  standalone?: string;
  redirectUri?: string;
  login?: Line[];
  fetches: Line[];
  map: Array<[string, string]>;
  /** Every browser redirect: the EHR's and login's authorization endpoints, then the final pages. */
  browser: string[];
  redirects: Redirect[];
  sign?: string;
}

export function summarize(plan: Plan): Summary {
  const apis = new Map(plan.apis.map((a) => [a.name, a]));
  return {
    compiler: plan.compiler,
    hash: plan.hash,
    sources: plan.sources.map((s) => s.file),
    store: plan.store?.kind === 'postgres'
      ? `PostgreSQL ${plan.store.url !== undefined ? valueText(plan.store.url) : ''} (shared by every runtime of the plan)`
      : plan.store?.kind === 'sqlite' ? 'SQLite in the runtime\'s data directory' : 'SQLite in the runtime\'s data directory (default; hdc run --store URL for PostgreSQL)',
    apis: plan.apis.map(apiSummary),
    auths: plan.auths.map(authSummary),
    senders: plan.senders.map(senderSummary),
    workflows: plan.workflows.map((w) => ({
      name: w.name,
      inputs: w.inputs,
      calls: apisCalled(w.steps).map((name) => {
        const api = apis.get(name);
        return { api: name, kind: api ? apiKind(api) : '?', baseUrl: api ? valueText(api.baseUrl) : '(not declared)' };
      }),
      steps: w.steps.map(stepLine),
    })),
    launches: plan.launches.map(launchSummary),
    tests: plan.tests.map(testSummary),
    ...(plan.modules && Object.keys(plan.modules).length ? { modules: moduleSummaries(plan.modules) } : {}),
    ...(plan.transforms?.some((t) => !t.name.startsWith('std.')) ? { transforms: transformSummaries(plan) } : {}),
  };
}

// ---- module blocks ----

/** Each block's settings, read generically: env() and file() as references, never their values. */
function moduleSummaries(modules: NonNullable<Plan['modules']>): ModuleBlockSummary[] {
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(text).join(', ');
    if (v && typeof v === 'object' && ('env' in v || 'file' in v)) return valueText(v as Value, { secret: true });
    if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k} ${text(x)}`).join('; ');
    return String(v);
  };
  // A repeatable `words` setting is a phrase per occurrence (`on Patient run upsert_patient`).
  const phrase = (v: unknown[]): string => v.map(text).join(' ');
  const setting = (kind: string, key: string, v: unknown): string => {
    const spec = moduleDeclaration(kind)?.declaration.settings[key];
    if (spec?.kind !== 'words' || !spec.repeatable || !Array.isArray(v)) return text(v);
    return Array.isArray(v[0]) ? (v as unknown[][]).map(phrase).join('; ') : phrase(v);
  };
  const out: ModuleBlockSummary[] = [];
  for (const [module, blocks] of Object.entries(modules)) {
    for (const block of Object.values(blocks as Record<string, unknown>) as Array<{ kind: string; name?: string; from?: string; settings?: Record<string, unknown> }>) {
      out.push({ module, keyword: block.kind, name: block.name, from: block.from, settings: Object.entries(block.settings ?? {}).map(([k, v]) => [k, setting(block.kind, k, v)]) });
    }
  }
  return out;
}

// ---- apis and auths ----

function apiSummary(a: Api): Summary['apis'][number] {
  const extra: string[] = [];
  if (a.format) extra.push(`responses read as ${a.format}`);
  if (a.validate) extra.push(a.validate === 'fhir' ? 'request bodies validated against FHIR R4' : 'request bodies never validated');
  for (const h of a.headers ?? []) extra.push(`header ${h.name}: ${valueText(h.value, { secret: true })}`);
  if (a.tls) extra.push(`TLS ${Object.entries(a.tls).map(([k, v]) => `${k} ${valueText(v as Value, { secret: k === 'key' })}`).join(', ')}`);
  return {
    name: a.name,
    kind: apiKind(a),
    baseUrl: valueText(a.baseUrl),
    auth: a.auth,
    timeout: duration(a.timeoutMs),
    retry: retryText(a.retry),
    extra,
  };
}

/** The policy in words: `retry 5 backoff 30s max 30m` reads "5 attempts; waits 30 s, doubling, at most 30 min". */
function retryText(r: Api['retry']): string {
  if (r.attempts <= 1) return '1 attempt, no retries';
  return `${r.attempts} attempts; waits ${duration(r.backoffMs)}, doubling, at most ${duration(r.maxBackoffMs ?? 30 * 60_000)}`;
}

function apiKind(a: Api): string {
  return a.kind === 'fhir' ? `FHIR ${a.fhirVersion ?? 'R4'}` : a.kind === 'hl7' ? 'HL7 v2 over HTTPS' : 'REST';
}

function authSummary(a: Auth): Summary['auths'][number] {
  const settings: Array<[string, string]> = [];
  const put = (label: string, v: Value | undefined, secret = false): void => {
    if (v !== undefined) settings.push([label, valueText(v, { secret })]);
  };
  put('user', a.user);
  put('password', a.password, true);
  put('token', a.token, true);
  put('token URL', a.tokenUrl);
  put('client id', a.clientId);
  put('client secret', a.clientSecret, true);
  if (a.clientAuth) settings.push(['client authentication', a.clientAuth]);
  put('private key', a.privateKey, true);
  if (a.alg) settings.push(['algorithm', a.alg]);
  put('key id', a.kid);
  if (a.scope) settings.push(['scope', a.scope]);
  const kinds = { basic: 'HTTP Basic', oauth2: 'OAuth2 client credentials', smart_backend: 'SMART Backend Services', bearer: 'bearer token' };
  return { name: a.name, kind: kinds[a.kind] ?? a.kind, settings };
}

// ---- senders ----

function senderSummary(s: Sender): SenderSummary {
  const settings: Array<[string, string]> = [['segment breaks', s.segmentBreaks]];
  if (s.strictVersion) settings.push(['strict version', 'other MSH-12 versions are rejected (AR)']);
  if (s.processingIds?.length) settings.push(['processing ids (MSH-11)', s.processingIds.join(', ')]);
  if (s.charset) settings.push(['default charset', s.charset]);
  if (s.timezone) settings.push(['time zone', `${s.timezone} (date-times without an offset get its offset)`]);
  if (s.maxBodyBytes) settings.push(['max body', `${s.maxBodyBytes} bytes`]);
  if (s.controlIdReuse === 'reject') settings.push(['control ID reuse', 'a different message with a used control ID is rejected (AR)']);
  return {
    name: s.name,
    path: s.path,
    version: s.version,
    identity: identityText(s.identity),
    matches: s.match.map(matchText),
    accepts: s.accept.map((t) => `${t.code}^${t.trigger}`),
    ack: s.ack.mode === 'after_workflow'
      ? `after the workflow${s.ack.timeoutMs !== undefined ? ` (waits at most ${duration(s.ack.timeoutMs)})` : ''}`
      : 'on receipt (once journaled)',
    settings,
    fields: flattenFields(s.fields, ''),
    routes: s.routes.map((r) => ({ types: r.types.map((t) => `${t.code}^${t.trigger}`), workflow: r.workflow })),
  };
}

function identityText(i: Sender['identity']): string {
  switch (i.kind) {
    case 'client_cert': {
      const parts = [i.subject && `subject contains ${i.subject}`, i.san && `SAN ${i.san}`, i.fingerprint && `SHA-256 ${i.fingerprint}`].filter(Boolean);
      return `TLS client certificate${parts.length ? ` (${parts.join(', ')})` : ''}`;
    }
    case 'basic':
      return `HTTP Basic, user ${valueText(i.user, { secret: true })}, password ${valueText(i.password, { secret: true })}`;
    default:
      return 'none (any client that reaches the path)';
  }
}

function matchText(m: MshPredicate): string {
  if (m.values.length === 1) return `${m.path.text} ${m.op} ${JSON.stringify(m.values[0])}`;
  return `${m.path.text} ${m.op === '==' ? 'in' : 'not in'} [${m.values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

function flattenFields(fields: FieldMapping[], prefix: string): SenderSummary['fields'] {
  return fields.flatMap((f) => {
    const name = prefix + f.name;
    if (f.each) {
      return [{ name, from: `each ${f.each} segment`, conversion: 'record per repetition', type: f.type }, ...flattenFields(f.fields ?? [], name + '.')];
    }
    let from = f.path?.text ?? '';
    if (f.where) from += ` where ${exprText(f.where)}`;
    if (f.select?.length) from += ` → .${f.select.join('.')}`;
    if (f.map) from += ` → map ${f.map.name}`;
    return [{ name, from, conversion: f.as ?? '', type: f.type }];
  });
}

// ---- workflows ----

function stepLine(s: Step): Line {
  const name = s.named ? `${s.id} = ` : '';
  switch (s.kind) {
    case 'fhir': {
      let text = `${name}FHIR ${s.interaction} ${s.resourceType ?? ''} on ${s.api ?? "the launch's FHIR server"}`;
      if (s.resourceId) text += `, id ${exprText(s.resourceId)}`;
      if (s.params) text += `${s.interaction?.startsWith('conditional') ? ', if matching' : ', params'} ${exprText(s.params)}`;
      if (s.maxPages) text += `, up to ${s.maxPages} pages`;
      if (s.body && s.interaction?.endsWith('patch')) text += `, JSON Patch setting ${patchedElements(s.body)}`;
      else if (s.body) text += `, body ${exprText(s.body)}`;
      return { text };
    }
    case 'rest': {
      let text = `${name}${s.method} ${s.api} ${exprText(s.urlPath)}`;
      if (s.query) text += `, query ${exprText(s.query)}`;
      if (s.headers) text += `, headers ${exprText(s.headers)}`;
      if (s.body) text += `, body ${exprText(s.body)}`;
      if (s.response) text += `, response ${responseText(s.response)}`;
      return { text };
    }
    case 'if':
      return { text: `if ${exprText(s.cond)}:`, children: (s.then ?? []).map(stepLine), else: s.else?.map(stepLine) };
    case 'for_each':
      return { text: `for each ${s.var} in ${exprText(s.over)}:`, children: (s.steps ?? []).map(stepLine) };
    case 'let':
      return { text: s.var ? `set ${s.var} = ${exprText(s.value)}` : `let ${s.id} = ${exprText(s.value)}` };
    case 'store':
      return { text: `store ${exprText(s.value)} in collection "${s.collection}"${s.key ? `, key ${exprText(s.key)}` : ''}` };
    case 'send':
      return {
        text: `send ${s.payload === 'message' ? 'the received HL7 message' : exprText(s.value)} to ${s.api}${s.urlPath ? ` ${exprText(s.urlPath)}` : ''}`,
      };
    case 'reject':
      return { text: `reject with ${s.code}: ${exprText(s.text)}` };
  }
}

/** The elements a patch sets: the body's keys when it is written as an object. */
function patchedElements(body: Expr): string {
  if (Array.isArray(body.object)) return body.object.map((e) => `${e.key} = ${exprText(e.value)}`).join(', ');
  return `the elements of ${exprText(body)}`;
}

function responseText(fields: ResponseField[]): string {
  const field = (f: ResponseField): string => {
    const path = f.path.map((p) => (typeof p === 'number' ? `[${p}]` : p === '*' ? '[*]' : `.${p}`)).join('').replace(/^\./, '') || '$';
    const what = f.fields ? `each ${path} ${responseText(f.fields)}` : `${path}${f.as ? ` as ${f.as}` : ''}`;
    return `${f.name} = ${what}${f.optional ? ' (optional)' : ''}`;
  };
  return `{ ${fields.map(field).join(', ')} }`;
}

function apisCalled(steps: Step[], out: string[] = []): string[] {
  for (const s of steps) {
    if (s.api && !out.includes(s.api)) out.push(s.api);
    apisCalled([...(s.then ?? []), ...(s.else ?? []), ...(s.steps ?? [])], out);
  }
  return out;
}

// ---- SMART launches ----

function launchSummary(l: Launch): LaunchSummary {
  const client: Array<[string, string]> = [['client id', valueText(l.clientId)]];
  if (l.clientSecret) client.push(['client secret', valueText(l.clientSecret, { secret: true })]);
  if (l.privateKey) client.push(['private key', `${valueText(l.privateKey, { secret: true })}${l.alg ? ` (${l.alg})` : ''}`]);
  if (l.kid) client.push(['key id', valueText(l.kid)]);

  const browser: string[] = [];
  for (const iss of l.issuers) browser.push(`the authorization endpoint of ${iss} (EHR launch)`);
  if (l.standalone) browser.push(`the authorization endpoint of ${valueText(l.standalone)} (standalone launch)`);
  if (l.login?.kind === 'oidc') browser.push(`the login page of ${valueText(l.login.issuer)} (OIDC)`);
  const rules = [...l.redirect.rules, l.redirect.otherwise];
  for (const r of rules) if (!browser.includes(r.to)) browser.push(r.to);

  return {
    name: l.name,
    client,
    scopes: l.scope.split(/\s+/).filter(Boolean),
    issuers: l.issuers,
    standalone: l.standalone ? valueText(l.standalone) : undefined,
    redirectUri: l.redirectUri ? valueText(l.redirectUri) : undefined,
    login: l.login && loginLines(l.login),
    fetches: l.fetch.map(stepLine),
    map: (l.map?.object ?? []).map((e) => [e.key, exprText(e.value)]),
    browser,
    redirects: rules.map((r) => ({
      when: r.when ? exprText(r.when) : 'otherwise',
      to: r.to,
      params: (r.with?.object ?? []).map((e) => [e.key, exprText(e.value)] as [string, string]),
    })),
    sign: l.sign && `query parameters signed with ${valueText(l.sign.secret, { secret: true })}, valid ${duration(l.sign.ttlSeconds * 1000)}`,
  };
}

function loginLines(login: NonNullable<Launch['login']>): Line[] {
  const kinds = { oidc: 'OpenID Connect', ldap: 'LDAP bind', users: 'local user table', postgres: 'PostgreSQL user query' };
  const lines: Line[] = [{ text: kinds[login.kind] ?? login.kind }];
  if (login.issuer) lines.push({ text: `issuer ${valueText(login.issuer)}` });
  if (login.clientId) lines.push({ text: `client id ${valueText(login.clientId)}` });
  if (login.clientSecret) lines.push({ text: `client secret ${valueText(login.clientSecret, { secret: true })}` });
  if (login.scope) lines.push({ text: `scope ${login.scope}` });
  if (login.url) lines.push({ text: `server ${valueText(login.url, { secret: true })}` });
  if (login.bindDn) lines.push({ text: `bind DN ${login.bindDn}` });
  if (login.query) lines.push({ text: `query ${login.query}` });
  if (login.require) lines.push({ text: `requires ${exprText(login.require)}` });
  if (login.map) lines.push({ text: `user fields ${exprText(login.map)}` });
  return lines;
}

// ---- tests ----

function testSummary(t: TestCase): Summary['tests'][number] {
  const start = t.send ? `sends ${t.send.message.file ?? 'a message'} to ${t.send.sender}` : t.launch ? `launches ${t.launch.name}` : 'no trigger';
  return { name: t.name, what: `${start}; ${t.mocks.length} mock${t.mocks.length === 1 ? '' : 's'}, ${t.expects.length} expectation${t.expects.length === 1 ? '' : 's'}` };
}

function duration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000} min`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000} s`;
  return `${ms} ms`;
}
