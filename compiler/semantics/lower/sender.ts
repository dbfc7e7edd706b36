// Lowering of a sender: version, identity, accepted types, MSH matches, mapped fields (declared
// as symbols for workflows), routes and the transport settings.
import type * as A from '../../syntax/ast.ts';
import type * as P from '../../../plan/plan.types.ts';
import type { Reporter } from '../reporter.ts';
import type { Declaration, SymbolTable } from '../symbols.ts';
import { lowerExpr, type ExprContext } from '../lower-expr.ts';
import * as S from '../settings.ts';
import { closest } from '../../dictionaries/closest.ts';
import { checkHl7Path, nearHl7Versions, resolveHl7Version, unknownHl7VersionMessage, messageTypeStatus, triggerStatus, suggestMessageTypes, suggestTriggers } from '../../dictionaries/hl7.ts';
import { isTimeZone, timeZoneNames } from '../time-zones.ts';
import { resolveValueMap } from '../value-maps.ts';
import { conversions as conversionDocs } from '../../specs/enumerations.ts';

/** What the parts of a sender's lowering share. */
interface SenderScope {
  file: string;
  r: Reporter;
  src: (r: A.Range) => string;
  symbols: SymbolTable;
  /** The version as declared, and the dictionary version its paths are checked against. */
  version?: string;
  dictVersion?: string;
  /** Reports an HL7 path the sender's version does not have (HDC3001-HDC3006). */
  checkPath(atom: A.Atom & { kind: 'hl7path' }): void;
}

export function lowerSender(d: A.SenderDecl, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable, refWorkflow: (id: A.Ident) => unknown): P.Sender {
  const s = S.readSettings(d.settings, S.senderSpec, `sender ${d.name.name}`, r, d.name.range);
  const sc = senderScope(s, file, r, src, symbols);
  const identity = lowerIdentity(s.get('identity')?.[0], sc);
  const accept = messageTypes(s.get('accept')?.[0].values ?? [], sc);
  const match: P.MshPredicate[] = d.matches.map((m) => {
    sc.checkPath(m.path);
    return { path: m.path.path, op: m.op, values: m.values.map((v) => v.value) as P.MshPredicate['values'], src: src(m.range) };
  });
  const fields = d.fields.map((f) => lowerField(f, d.name.name, sc));
  const routes = lowerRoutes(d, accept, s.get('accept')?.[0], sc, refWorkflow);

  const pathSetting = S.settingString(s.get('path')) ?? '/';
  if (!pathSetting.startsWith('/')) r.error('HDC2050', s.get('path')![0].values[0].range, 'the sender path must start with "/"', `Write: path "/${pathSetting}"`);
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
  if (sc.version !== undefined) sender.version = sc.version;
  lowerTransport(s, sender, sc);
  const required = requiredPositions(s.get('require'), sc.checkPath, r);
  if (required.length) sender.require = required;
  return sender;
}

/** The declared version, resolved against the bundled dictionaries, and the path check it gives. */
function senderScope(s: Map<string, A.Setting[]>, file: string, r: Reporter, src: (r: A.Range) => string, symbols: SymbolTable): SenderScope {
  const versionSetting = s.get('version')?.[0];
  const version = S.settingString(s.get('version'));
  let dictVersion: string | undefined;
  if (version !== undefined) {
    const resolved = resolveHl7Version(version);
    if (!resolved) r.error('HDC3004', versionSetting!.values[0].range, unknownHl7VersionMessage(version), 'Declare the version the partner sends, e.g. version "2.5.1".', nearHl7Versions(version).map((v) => ({ replacement: JSON.stringify(v), range: versionSetting!.values[0]!.range })));
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
  return { file, r, src, symbols, version, dictVersion, checkPath };
}

/** `identity client_cert { subject … }` or `identity basic { user … password … }`. */
function lowerIdentity(idSetting: A.Setting | undefined, { file, r, src }: SenderScope): P.Identity {
  const identity: P.Identity = { kind: (S.settingString(idSetting && [idSetting]) as P.Identity['kind']) ?? 'none' };
  if (!idSetting) return identity;
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
  return identity;
}

/** Message types (ADT^A01, ORU^*, *), checked against the sender's version. */
function messageTypes(atoms: A.Atom[], { r, version, dictVersion }: SenderScope): P.MessageType[] {
  return atoms.map((a) => {
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
}

const covers = (a: P.MessageType, t: P.MessageType) => (a.code === '*' || a.code === t.code) && (a.trigger === '*' || a.trigger === t.trigger);

/** A type messageTypes() reported as unknown in the sender's version. */
const misspelt = (t: P.MessageType, dictVersion: string | undefined) => dictVersion !== undefined &&
  ((t.code !== '*' && messageTypeStatus(dictVersion, t.code) === 'unknown') || (t.trigger !== '*' && triggerStatus(dictVersion, t.trigger) === 'unknown'));

/** `on TYPES run WORKFLOW`: routed types must be accepted; accepted types without a route are noted. */
function lowerRoutes(d: A.SenderDecl, accept: P.MessageType[], acceptSetting: A.Setting | undefined, sc: SenderScope, refWorkflow: (id: A.Ident) => unknown): P.Route[] {
  const { r, src } = sc;
  // A misspelt accepted type is reported once; the routes it was meant to cover are not reported too.
  const acceptMisspelt = accept.some((a) => misspelt(a, sc.dictVersion));
  const routes: P.Route[] = d.routes.map((rt) => {
    const types = messageTypes(rt.types, sc);
    rt.types.forEach((t, i) => {
      if (!accept.some((a) => covers(a, types[i])) && !acceptMisspelt) {
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
        const atom = acceptSetting!.values[i];
        r.info('HDC3008', atom.range, `${a.code}^${a.trigger} is accepted but no workflow runs for it`, 'Such messages are journaled and acknowledged only. Add an `on … run` route if they need processing.');
      }
    }
  }
  return routes;
}

/** A mapped field (or an `each SEG { … }` group), declared as a symbol the workflows read. */
function lowerField(f: A.FieldDecl, container: string, sc: SenderScope, groupSeg?: string): P.FieldMapping {
  const { file, r, src, symbols } = sc;
  // The declaration is completed (type, keys, value map) once the field is read below.
  const decl: Declaration = { kind: 'field', name: f.name.name, file, range: f.name.range, declRange: f.range, container };
  symbols.declare(decl);
  if (f.each) {
    const seg = f.each.name;
    if (!/^[A-Z][A-Z0-9]{2}$/.test(seg)) r.error('HDC1005', f.each.range, `"${seg}" is not a segment name`, 'Write a segment code: each OBX { … }');
    else if (sc.dictVersion) sc.checkPath({ kind: 'hl7path', path: { text: seg, segment: seg }, range: f.each.range });
    const fields = (f.fields ?? []).map((x) => lowerField(x, `${container}.${f.name.name}`, sc, seg));
    decl.type = 'records';
    decl.keys = (f.fields ?? []).map((x) => x.name.name);
    return { name: f.name.name, each: seg, fields, type: 'records', src: src(f.range) };
  }
  const m: P.FieldMapping = { name: f.name.name, type: 'string', src: src(f.range) };
  if (!f.path) return m;
  sc.checkPath(f.path);
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
  const conversions = Object.keys(conversionDocs);
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
  decl.type = type;
  if (f.map) {
    const vm = resolveValueMap(f.map, r, symbols, file);
    if (vm) { m.map = vm; decl.valueMap = vm.name; }
  }
  return m;
}

/** How messages arrive and are answered: versions, processing ids, charset, time zone, ack, body size, control ids. */
function lowerTransport(s: Map<string, A.Setting[]>, sender: P.Sender, { r }: SenderScope): void {
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
      r.error('HDC2051', timezone.range, `unknown time zone "${timezone.value}"`,
        'Use an IANA time zone name such as "Europe/London" or "America/New_York" (an offset like "+01:00" does not follow daylight saving time).',
        near.map((n) => ({ replacement: JSON.stringify(n), range: timezone.range })));
    }
  }
  const ack = s.get('ack')?.[0];
  if (sender.ack.mode === 'after_workflow') sender.ack.timeoutMs = S.settingDuration(s.get('ack'), 1) ?? 10_000;
  else if (ack && ack.values[1]) r.error('HDC2048', ack.values[1].range, 'a timeout only applies to ack after_workflow', 'Remove it, or write: ack after_workflow 10s');
  if (sender.ack.mode === 'after_workflow' && !sender.routes.length) r.error('HDC2052', ack!.range, 'ack after_workflow needs a route', 'Add `on TYPE run WORKFLOW`, or use ack on_receive.');
  const maxBody = S.settingNumber(s.get('max_body'));
  if (maxBody !== undefined) sender.maxBodyBytes = maxBody;
  if (S.settingString(s.get('control_id_reuse')) === 'reject') sender.controlIdReuse = 'reject';
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
      r.error('HDC2053', atom.range, `require names one position, not a list: ${p.text}`, `Write the position without [*]: ${p.text.replace(/\[\*\]/g, '')}`,
        [{ replacement: p.text.replace(/\[\*\]/g, ''), range: atom.range }]);
      continue;
    }
    checkPath(atom);
    out.push(p);
  }
  return out;
}


