// Renders a plan summary as Markdown (for a pull-request comment) or as plain text (a terminal).
import type { Line, Summary } from './summary.ts';

export type ExplainFormat = 'markdown' | 'text' | 'json';

function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}
/** A GFM table cell: `|` escaped (also inside code spans), one line. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Nested lines as [depth, text], an `if`'s other branch as `else:` after its children. */
function flatten(items: Line[], depth = 0): Array<[number, string]> {
  return items.flatMap((l): Array<[number, string]> => [
    [depth, l.text],
    ...flatten(l.children ?? [], depth + 1),
    ...(l.else ? [[depth, 'else:'] as [number, string], ...flatten(l.else, depth + 1)] : []),
  ]);
}

interface Writer {
  h(level: number, text: string): void;
  kv(label: string, value: string): void;
  list(items: string[]): void;
  lines(items: Line[]): void;
  table(head: string[], rows: string[][]): void;
  para(text: string): void;
}

class MarkdownWriter implements Writer {
  out: string[] = [];
  private gap(): void { if (this.out.length && this.out.at(-1) !== '') this.out.push(''); }
  h(level: number, text: string): void { this.gap(); this.out.push(`${'#'.repeat(level)} ${text}`, ''); }
  kv(label: string, value: string): void { this.out.push(`- **${label}:** ${value}`); }
  list(items: string[]): void { for (const i of items) this.out.push(`- ${i}`); }
  lines(items: Line[]): void {
    for (const [depth, text] of flatten(items)) this.out.push(`${'  '.repeat(depth)}- ${code(text)}`);
  }
  table(head: string[], rows: string[][]): void {
    this.gap();
    this.out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of rows) this.out.push(`| ${r.map(cell).join(' | ')} |`);
    this.out.push('');
  }
  para(text: string): void { this.gap(); this.out.push(text, ''); }
}

class TextWriter implements Writer {
  out: string[] = [];
  h(level: number, text: string): void {
    if (this.out.length) this.out.push('');
    const plain = text.replace(/`/g, '');
    this.out.push(level <= 2 ? plain.toUpperCase() : plain);
  }
  kv(label: string, value: string): void { this.out.push(`  ${label}: ${value.replace(/`/g, '')}`); }
  list(items: string[]): void { for (const i of items) this.out.push(`    - ${i.replace(/`/g, '')}`); }
  lines(items: Line[]): void {
    for (const [depth, text] of flatten(items)) this.out.push(`${'  '.repeat(depth + 2)}${text}`);
  }
  table(head: string[], rows: string[][]): void {
    const plain = [head, ...rows].map((r) => r.map((c) => c.replace(/`/g, '')));
    const widths = head.map((_, i) => Math.max(...plain.map((r) => r[i]!.length)));
    for (const r of plain) this.out.push('    ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  }
  para(text: string): void { this.out.push('  ' + text.replace(/`/g, '')); }
}

export function renderSummary(s: Summary, format: Exclude<ExplainFormat, 'json'>): string {
  const w = format === 'markdown' ? new MarkdownWriter() : new TextWriter();
  w.h(1, 'Integration summary');
  w.para(`Compiled by ${code(s.compiler)} from ${s.sources.map(code).join(', ') || 'no sources'}; plan ${code(s.hash)}.`);
  w.para(`Store: ${s.store}.`);

  if (s.senders.length) w.h(2, 'Senders (HL7 v2 in)');
  for (const x of s.senders) {
    w.h(3, `${code(x.name)} — POST ${code(x.path)}`);
    w.kv('Identity', x.identity);
    w.kv('Matches', x.matches.length ? x.matches.map(code).join(' and ') : 'any MSH');
    w.kv('Accepts', `${x.accepts.join(', ')}${x.version ? ` (HL7 v${x.version})` : ''}`);
    w.kv('ACK', x.ack);
    for (const [k, v] of x.settings) w.kv(capital(k), v);
    w.kv('Routes', x.routes.length ? x.routes.map((r) => `${r.types.join(', ')} → workflow ${code(r.workflow)}`).join('; ') : 'none (messages are journaled and acknowledged only)');
    if (x.fields.length) {
      w.table(['Field', 'From HL7', 'Conversion', 'Type'], x.fields.map((f) => [code(f.name), code(f.from), f.conversion, f.type]));
    }
  }

  if (s.workflows.length) w.h(2, 'Workflows');
  for (const x of s.workflows) {
    w.h(3, `Workflow ${code(x.name)}`);
    if (x.inputs.length) w.kv('Reads fields', x.inputs.map(code).join(', '));
    w.kv('Calls', x.calls.length ? x.calls.map((c) => `${code(c.api)} (${c.kind}, ${code(c.baseUrl)})`).join('; ') : 'no API');
    w.para('Steps, in order:');
    w.lines(x.steps);
  }

  if (s.launches.length) w.h(2, 'SMART launches');
  for (const x of s.launches) {
    w.h(3, `Launch ${code(x.name)}`);
    for (const [k, v] of x.client) w.kv(capital(k), code(v));
    w.kv('Scopes', x.scopes.map(code).join(' '));
    w.kv('EHR launch issuers', x.issuers.length ? x.issuers.map(code).join(', ') : 'none');
    if (x.standalone) w.kv('Standalone launch issuer', code(x.standalone));
    if (x.redirectUri) w.kv('Callback URL', code(x.redirectUri));
    if (x.sign) w.kv('Signing', x.sign);
    if (x.login) {
      w.para('User login:');
      w.lines(x.login);
    }
    if (x.fetches.length) {
      w.para('Fetches, in order:');
      w.lines(x.fetches);
    }
    if (x.map.length) w.table(['Data', 'Value'], x.map.map(([k, v]) => [code(k), code(v)]));
    w.para('The browser may be redirected to:');
    w.list(x.browser.map(code));
    w.para('Final page, first matching rule:');
    w.table(['When', 'Redirect to', 'Query parameters'], x.redirects.map((r) => [
      r.when === 'otherwise' ? 'otherwise' : code(r.when),
      code(r.to),
      r.params.map(([k, v]) => `${code(k)} ← ${code(v)}`).join('<br>') || '—',
    ]));
  }

  if (s.transforms?.length) {
    w.h(2, 'Transforms');
    for (const t of s.transforms) {
      w.h(3, `Transform ${code(t.name)}(${t.params}) → ${t.result}`);
      if (!t.extends) continue;
      w.kv('Extends', code(t.extends));
      if (!t.replaced.length && !t.added.length) w.para('Changes nothing.');
      if (t.replaced.length || t.added.length) {
        w.table(['Element', 'Change', 'Value'], [
          ...t.replaced.map(([k, v]) => [code(k), 'replaced', code(v)]),
          ...t.added.map(([k, v]) => [code(k), 'added', code(v)]),
        ]);
      }
    }
  }

  if (s.apis.length) {
    w.h(2, 'APIs');
    w.table(['API', 'Kind', 'Base URL', 'Auth', 'Timeout', 'Retry', 'Other'], s.apis.map((a) => [
      code(a.name), a.kind, code(a.baseUrl), a.auth ? code(a.auth) : '—', a.timeout, a.retry, a.extra.join('; ') || '—',
    ]));
  }
  if (s.auths.length) {
    w.h(2, 'Authentication');
    w.table(['Auth', 'Kind', 'Settings'], s.auths.map((a) => [
      code(a.name), a.kind, a.settings.map(([k, v]) => `${k} ${code(v)}`).join('<br>') || '—',
    ]));
  }
  if (s.modules?.length) {
    w.h(2, 'Modules');
    w.table(['Module', 'Block', 'Settings'], s.modules.map((m) => [
      m.module, `${code(m.keyword)}${m.name ? ` ${code(m.name)}` : ''}${m.from ? ` from ${code(m.from)}` : ''}`,
      m.settings.map(([k, v]) => `${k} ${code(v)}`).join('<br>') || '—',
    ]));
  }
  if (s.tests.length) {
    w.h(2, 'Tests');
    w.list(s.tests.map((t) => `${code(t.name)}: ${t.what}`));
  }
  const out = w.out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
  return format === 'text' ? out.replace(/<br>/g, ', ') : out;
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
