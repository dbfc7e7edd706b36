// Hover: HL7 fields (name, data type, optionality, repetition) for the sender's version, message
// types, FHIR resources, search parameters and elements, settings and functions, and a summary
// of any declared name.
import { MarkupKind, type Hover, type HoverParams } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import type { Hl7Path } from '../../plan/plan.types.ts';
import { scopeAt } from '../../compiler/api.ts';
import * as hl7 from '../../compiler/dictionaries/hl7.ts';
import * as fhir from '../../compiler/dictionaries/fhir.ts';
import { readTable } from '../../compiler/dictionaries/read-table.ts';
import type { Hl7VersionTable } from '../../compiler/dictionaries/table-shapes.ts';
import { functions } from '../../compiler/semantics/functions.ts';
import { builtinDoc } from '../../compiler/semantics/lower-expr.ts';
import * as S from '../../compiler/semantics/settings.ts';
import type { Declaration } from '../../compiler/semantics/symbols.ts';
import { nodesAt, walk, type AnyNode } from '../../compiler/syntax/visit.ts';
import { moduleDeclaration } from '../../compiler/specs/module-spec.ts';
import { blockStatement } from '../../compiler/specs/statements.ts';
import { DEFAULT_HL7_VERSION } from '../completion-sources.ts';
import { toLspRange, touches } from '../ranges.ts';
import { symbolAt } from '../symbol-at.ts';
import { uriToPath } from '../workspace.ts';
import type { ServerContext } from '../server.ts';
import type { ProjectAnalysis } from '../analysis.ts';
import { clauseHover, wordHover } from './hover-words.ts';
import { eachGroupOf, groupFieldText } from '../each-groups.ts';
import { fhirDatatypeElementLink, fhirElementLink, fhirResourceLink, fhirSearchLink, hl7MessageLink, hl7PathLink, hl7SegmentLink, linkLine } from '../spec-links.ts';

export function hover(ctx: ServerContext, params: HoverParams): Hover | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const path = uriToPath(params.textDocument.uri);
  const { analysis, file } = ctx.analyzer.forFile(path);
  if (!file) return null;
  const offset = doc.offsetAt(params.position);
  const found = describe(analysis, file, offset);
  if (!found) return null;
  return { contents: { kind: MarkupKind.Markdown, value: found.text }, range: toLspRange(found.range) };
}

function describe(analysis: ProjectAnalysis, file: A.SourceFile, offset: number): { text: string; range: A.Range } | undefined {
  const chain = nodesAt(file, offset);
  // The sender's declared version (or that of the senders routing to a workflow).
  const version = () => {
    const v = scopeAt(analysis.project, file.file, offset).hl7Version;
    return v && hl7.resolveHl7Version(v) ? v : DEFAULT_HL7_VERSION;
  };

  for (let i = chain.length - 1; i >= 0; i--) {
    const n = chain[i]!;
    const parent = chain[i - 1];
    if (n.kind === 'hl7path') return { text: hl7PathText(version(), n.path), range: n.range };
    if (n.kind === 'msgtype') return { text: messageTypeText(version(), n), range: n.range };
    // `each OBX`: the segment.
    if (parent?.kind === 'field' && n.kind === 'ident' && parent.each === n) {
      const seg = hl7.segment(hl7.resolveHl7Version(version())!.version, n.name);
      const v = hl7.resolveHl7Version(version())!.version;
      if (seg) return { text: `**${seg.code}** — ${seg.description} (HL7 v${version()}), ${seg.fields.length} fields\n\n${linkLine(`HL7 v${v} ${seg.code}`, hl7SegmentLink(v, seg.code))}`, range: n.range };
    }
    if (parent?.kind === 'request' && parent.resourceType && parent.resourceType === n) return resourceText(parent.resourceType.name, n.range);
    if (n.kind === 'object') {
      const hit = objectKeyHover(chain.slice(0, i + 1), offset);
      if (hit) return hit;
    }
    if (n.kind === 'member') {
      const hit = memberHover(analysis, file, n, offset);
      if (hit) return hit;
    }
    if (n.kind === 'call') {
      const c = n;
      if (touches(c.callee.range, offset) && functions[c.callee.name]) return { text: `\`${c.callee.name}\` — ${functions[c.callee.name]!.doc}`, range: c.callee.range };
      const vm = analysis.project.symbols?.valueMaps.get(c.callee.name);
      if (touches(c.callee.range, offset) && vm) {
        const rows = vm.map.table.map(([k, v]) => `| ${k} | ${v} |`).join('\n');
        return { text: `**map ${vm.map.name}**${vm.map.system ? ` to ${vm.map.system}` : ''}\n\n| input | output |\n|---|---|\n${rows}${vm.map.else !== undefined ? `\n| *else* | ${vm.map.else} |` : ''}`, range: c.callee.range };
      }
    }
    const word = keywordHover(n, offset) ?? wordHover(analysis, file, n, offset);
    if (word) return word;
    if (n.kind === 'module' && touches(n.keyword.range, offset)) {
      const found = moduleDeclaration(n.keyword.name);
      if (found) return { text: `**${n.keyword.name}** (module ${found.module.name}) — ${found.declaration.doc}`, range: n.keyword.range };
    }
    if (n.kind === 'setting') {
      const s = n;
      if (touches(s.key.range, offset)) {
        const doc = settingDoc(chain.slice(0, i), s.key.name);
        if (doc) return { text: `**${s.key.name}** — ${doc}`, range: s.key.range };
      }
      // A value of a module's setting: what the module's spec says about it (a FHIR type, a query).
      const decl = chain.find((x): x is A.ModuleDecl => x.kind === 'module');
      const describe = decl ? moduleDeclaration(decl.keyword.name)?.declaration.settings[s.key.name]?.describe : undefined;
      const at = s.values.findIndex((v) => touches(v.range, offset));
      if (describe && at >= 0) {
        const word = (v: A.Atom) => (v.kind === 'string' ? v.value : v.kind === 'name' ? v.name : '');
        const text = describe(word(s.values[at]!), s.values.slice(0, at).map(word));
        if (text) return { text, range: s.values[at]!.range };
      }
    }
  }

  const hit = symbolAt(analysis, file.file, offset);
  if (hit) return { text: declarationText(analysis, hit.target), range: hit.range };

  const ref = chain.filter((n): n is A.RefExpr => n.kind === 'ref').pop();
  if (ref && builtinDoc(ref.name)) return { text: `\`${ref.name}\` (built-in) — ${builtinDoc(ref.name)}`, range: ref.range };
  return clauseHover(file, offset);
}

/** A statement's first word: what the statement does and how it is written (the vocabulary's doc). */
function keywordHover(n: AnyNode, offset: number): { text: string; range: A.Range } | undefined {
  const kinds = ['let', 'if', 'for', 'store', 'reject', 'match', 'route', 'login', 'redirect', 'mock', 'expect'];
  let range: A.Range | undefined;
  let spec;
  if (n.kind === 'request') {
    range = n.verbRange;
    spec = blockStatement(n.protocol === 'fhir' ? 'read' : 'get');
  } else if (kinds.includes(n.kind) || (n.kind === 'send' && !('sender' in n))) {
    const word = n.kind === 'route' ? 'on' : n.kind;
    if (n.kind === 'let' && n.assign) return undefined;
    range = { start: n.range.start, end: { line: n.range.start.line, col: n.range.start.col + word.length, offset: n.range.start.offset + word.length } };
    spec = blockStatement(word);
  }
  if (!range || !spec || !touches(range, offset)) return undefined;
  const word = n.kind === 'request' ? n.verb : spec.keyword;
  return { text: `**${word}** — ${spec.doc}\n\n\`${word} ${spec.follows}\``, range };
}

function hl7PathText(version: string, path: Hl7Path): string {
  const v = hl7.resolveHl7Version(version)?.version ?? DEFAULT_HL7_VERSION;
  const check = hl7.checkHl7Path(version, path);
  const text = hl7.pathText(path);
  const lines = [`**${text}** ${hl7.describeHl7Path(version, path).slice(text.length + 1)}`];
  const deepest = ('subcomponent' in check && check.subcomponent) || check.component || check.field;
  const type = deepest && hl7.dataType(v, deepest.dataType);
  if (type) lines.push('', `${type.code}: ${type.description}${type.components.length ? ` (${type.components.map((c) => c.name).slice(0, 6).join(', ')}${type.components.length > 6 ? ', …' : ''})` : ''}`);
  // 99999 is the tables' way of saying "no limit".
  if (check.field?.length !== undefined && check.field.length < 99999) lines.push('', `Length ${check.field.length}`);
  const seg = hl7.segment(v, path.segment);
  if (seg) lines.push('', `Segment ${seg.code} ${seg.description}, HL7 v${v}`);
  lines.push('', linkLine(`HL7 v${v} ${path.field ? `${path.segment}-${path.field}` : path.segment}`, hl7PathLink(v, path)));
  return lines.join('\n');
}

function messageTypeText(version: string, m: { code: string; trigger: string; text: string }): string {
  const v = hl7.resolveHl7Version(version)?.version ?? DEFAULT_HL7_VERSION;
  const table = readTable<Hl7VersionTable>(`hl7-${v}.json`);
  const type = table.messageTypes[m.code];
  const trigger = table.triggerEvents[m.trigger];
  const structure = hl7.messageStructure(v, m.text);
  const lines = [`**${m.text}** — ${type ?? (m.code === '*' ? 'any message type' : 'message type not defined in HL7 v' + v)}`];
  if (trigger) lines.push('', `Trigger ${m.trigger}: ${trigger}`);
  if (structure) lines.push('', `Structure ${structure.code}: ${structure.segments.join(' ')}`);
  if (trigger) lines.push('', linkLine(`HL7 v${v} ${m.code}^${m.trigger}`, hl7MessageLink(v, m.code, m.trigger)));
  return lines.join('\n');
}

function resourceText(name: string, range: A.Range): { text: string; range: A.Range } | undefined {
  const r = fhir.resourceType(name);
  return r ? { text: `**${name}** (FHIR R4 resource) — ${r.description}\n\n${linkLine(`FHIR R4 ${name}`, fhirResourceLink(name))}`, range } : undefined;
}

/** Search parameter or element names written as object keys. */
function objectKeyHover(chain: AnyNode[], offset: number): { text: string; range: A.Range } | undefined {
  const obj = chain[chain.length - 1];
  if (obj?.kind !== 'object') return undefined;
  const entry = obj.entries.find((e) => touches(e.keyRange, offset));
  if (!entry) return undefined;
  // Walk up to the request the object belongs to, collecting the keys on the way.
  const keys: string[] = [entry.key];
  for (let i = chain.length - 2; i >= 0; i--) {
    const n = chain[i]!;
    if (n.kind === 'request') {
      const st = n;
      const type = st.resourceType?.name;
      if (!type) return undefined;
      if (st.params === chain[i + 1] && keys.length === 1) {
        const check = fhir.checkSearchParam(type, entry.key);
        if (check.ok) return { text: `**${type}?${entry.key}** (${check.param.type} search parameter) — ${check.param.description}${check.param.expression ? `\n\n\`${check.param.expression}\`` : ''}\n\n${linkLine(`FHIR R4 ${type} search`, fhirSearchLink(type))}`, range: entry.keyRange };
        return undefined;
      }
      const r = fhir.resolveElementPath(type, keys.join('.'));
      if (r.ok) return { text: `**${type}.${keys.join('.')}** (${r.types.join(' | ')}, ${r.element.min}..${r.element.max}) — ${r.element.description}\n\n${elementLink(r.owner, r.element.path)}`, range: entry.keyRange };
      return undefined;
    }
    if (n.kind === 'object') {
      const holder = n.entries.find((e) => e.value === chain[i + 1]);
      if (holder) keys.unshift(holder.key);
    } else if (n.kind !== 'array') return undefined;
  }
  return undefined;
}

/** `patient.entry[0].resource.name`: the FHIR element under the cursor. */
function memberHover(analysis: ProjectAnalysis, file: A.SourceFile, m: A.MemberExpr, offset: number): { text: string; range: A.Range } | undefined {
  if (!touches(m.property.range, offset)) return undefined;
  const parts: string[] = [];
  let e: A.Expr = m;
  for (;;) {
    if (e.kind === 'member') { parts.unshift(e.property.name); e = e.object; }
    else if (e.kind === 'index') { parts[0] = `${parts[0] ?? ''}`; e = e.object; }
    else break;
  }
  if (e.kind !== 'ref') return undefined;
  const root = e.name;
  const v = scopeAt(analysis.project, file.file, offset).variables.filter((d) => d.name === root).pop();
  if (v?.keys && v.kind === 'step' && parts.length === 1) {
    const field = responseOf(analysis, v)?.fields.find((f) => f.name.name === parts[0]);
    if (field) return { text: `**${root}.${responseFieldText(field)}** — declared response field`, range: m.property.range };
  }
  // `r.code` where r walks an each group: the group's field and its HL7 path.
  if (v?.kind === 'variable' && v.keys?.includes(parts[0] ?? '') && parts.length === 1) {
    const group = eachGroupOf(analysis, v);
    const field = group?.field.fields?.find((f) => f.name.name === parts[0]);
    if (group && field) return { text: `**${root}.${groupFieldText(field)}** — a field of each ${group.field.each!.name} in \`${group.field.name.name}\` (sender ${group.sender})`, range: m.property.range };
  }
  if (!v?.resourceType || !fhir.isResourceType(v.resourceType)) return undefined;
  const base = v.search ? 'Bundle' : v.resourceType;
  const r = fhir.resolveElementPath(base, parts.join('.'), v.resourceType);
  if (!r.ok) return undefined;
  return { text: `**${r.owner}.${r.element.path}** (${r.types.join(' | ')}, ${r.element.min}..${r.element.max}) — ${r.element.description}\n\n${elementLink(r.owner, r.element.path)}`, range: m.property.range };
}

/** The element's definition in R4 (a datatype's elements are on the datatype's page). */
function elementLink(owner: string, path: string): string {
  return linkLine(`FHIR R4 ${owner}.${path}`, fhir.isResourceType(owner) ? fhirElementLink(owner, `${owner}.${path}`) : fhirDatatypeElementLink(owner, path));
}

function settingDoc(ancestors: AnyNode[], key: string): string | undefined {
  const decl = ancestors[0];
  const nested = ancestors.filter((n): n is A.Setting => n.kind === 'setting').map((n) => n.key.name);
  let spec: S.SettingsSpec | undefined;
  switch (decl?.kind) {
    case 'auth': spec = S.authSpecs[decl.authKind.name]; break;
    case 'api': spec = S.apiSpec; break;
    case 'sender': spec = S.senderSpec; break;
    case 'workflow': spec = S.workflowSpec; break;
    case 'module': spec = moduleDeclaration(decl.keyword.name)?.declaration.settings; break;
    case 'launch': {
      const login = ancestors.find((n): n is A.LoginDecl => n.kind === 'login');
      spec = login ? S.loginSpecs[login.method.name] : S.launchSpec;
      break;
    }
  }
  for (const k of nested) spec = spec?.[k]?.block;
  return spec?.[key]?.doc;
}

function declarationText(analysis: ProjectAnalysis, d: Declaration): string {
  const decls = [...analysis.files.values()].flatMap((f) => f.decls);
  const where = `${d.file.slice(d.file.lastIndexOf('/') + 1)}:${d.range.start.line}`;
  switch (d.kind) {
    case 'auth': {
      const a = decls.find((x): x is A.AuthDecl => x.kind === 'auth' && x.name.name === d.name);
      return `**auth ${d.name}** ${a ? `(${a.authKind.name})` : ''} — ${where}`;
    }
    case 'api': {
      const a = decls.find((x): x is A.ApiDecl => x.kind === 'api' && x.name.name === d.name);
      const base = a?.baseUrl.kind === 'string' ? a.baseUrl.value : '';
      const auth = a?.settings.find((s) => s.key.name === 'auth')?.values[0];
      return `**api ${d.name}** ${a ? `(${a.apiKind.name})` : ''} ${base ? `\`${base}\`` : ''}${auth && 'name' in auth ? `, auth ${auth.name}` : ''} — ${where}`;
    }
    case 'sender': {
      const s = decls.find((x): x is A.SenderDecl => x.kind === 'sender' && x.name.name === d.name);
      if (!s) return `**sender ${d.name}** — ${where}`;
      const val = (k: string) => { const v = s.settings.find((x) => x.key.name === k)?.values[0]; return v?.kind === 'string' ? v.value : undefined; };
      const accepts = s.settings.filter((x) => x.key.name === 'accept').flatMap((x) => x.values).map((v) => ('text' in v ? v.text : '*'));
      const routes = s.routes.map((r) => `${r.types.map((t) => ('text' in t ? t.text : '*')).join(', ')} → ${r.workflow.name}`);
      return [`**sender ${d.name}** — ${where}`, '', `path \`${val('path') ?? '?'}\`, HL7 v${val('version') ?? '(any)'}`, `accepts ${accepts.join(', ') || 'nothing'}`, `${s.fields.length} fields; ${routes.join('; ') || 'no routes'}`].join('\n');
    }
    case 'workflow': {
      const senders = decls.filter((x): x is A.SenderDecl => x.kind === 'sender' && x.routes.some((r) => r.workflow.name === d.name)).map((s) => s.name.name);
      const w = decls.find((x): x is A.WorkflowDecl => x.kind === 'workflow' && x.name.name === d.name);
      return [`**workflow ${d.name}** — ${where}`, '', `run by ${senders.join(', ') || 'no sender'}; ${w?.body.length ?? 0} steps`].join('\n');
    }
    case 'launch': return `**smart launch ${d.name}** — ${where}`;
    case 'step': {
      const response = responseOf(analysis, d);
      const result = response ? `\n\nResponse: ${response.fields.map(responseFieldText).join(', ')}` : d.resourceType ? `\n\nResult: ${d.search ? `Bundle of ${d.resourceType}` : d.resourceType}` : '';
      return `**${d.name}** (step in ${d.container}) — ${d.detail ?? ''}${result}`;
    }
    case 'field': {
      const path = findFieldPath(decls, d);
      return `**${d.name}** (field of sender ${d.container}${d.type ? `, ${d.type}` : ''})${path ? ` — \`${path}\`` : ''}${d.keys ? `\n\nKeys: ${d.keys.join(', ')}` : ''}`;
    }
    case 'variable': {
      // A loop over an each group: which segment each item is, and its fields' paths.
      const group = d.detail === 'loop' ? eachGroupOf(analysis, d) : undefined;
      if (group) return `**${d.name}** (loop variable: each ${group.field.each!.name} of \`${group.field.name.name}\`, sender ${group.sender})\n\nFields: ${(group.field.fields ?? []).map(groupFieldText).join(', ')}`;
      return `**${d.name}** (${d.detail ?? 'variable'}${d.type ? `, ${d.type}` : ''})${d.keys ? `\n\nKeys: ${d.keys.join(', ')}` : ''}`;
    }
    default: return `**${d.kind} ${d.name}** — ${where}`;
  }
}

/** The `response { … }` declared by the request a step declaration names. */
function responseOf(analysis: ProjectAnalysis, d: Declaration): A.ResponseDecl | undefined {
  const file = analysis.files.get(d.file);
  if (!file) return undefined;
  let found: A.ResponseDecl | undefined;
  walk(file, (st) => {
    if (!found && st.kind === 'request' && st.response && st.target?.range.start.offset === d.range.start.offset) found = st.response;
  });
  return found;
}

/** `total: number`, `open: list of { id: string, start: datetime }`, `note: string (optional)`. */
function responseFieldText(f: A.ResponseFieldDecl): string {
  const type = f.fields ? `list of { ${f.fields.map(responseFieldText).join(', ')} }` : f.as?.name ?? 'any';
  return `${f.name.name}: ${type}${f.optional ? ' (optional)' : ''}`;
}

function findFieldPath(decls: A.Decl[], d: Declaration): string | undefined {
  for (const s of decls) {
    if (s.kind !== 'sender') continue;
    const visit = (fields: A.FieldDecl[]): string | undefined => {
      for (const f of fields) {
        if (f.name.range.start.offset === d.range.start.offset && f.name.name === d.name && s.range.start.offset <= f.range.start.offset) return f.each ? `each ${f.each.name}` : f.path?.path.text;
        const inner = f.fields && visit(f.fields);
        if (inner) return inner;
      }
      return undefined;
    };
    const hit = visit(s.fields);
    if (hit) return hit;
  }
  return undefined;
}
