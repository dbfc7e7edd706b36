// npm run gen (and gen:check): writes what the vocabulary drives outside the code — the reference
// sections of docs/language.md between `<!-- generated: NAME -->` markers, and the keyword patterns
// of the TextMate grammar (patterns whose "comment" is `generated: NAME`). --check fails when a
// file is not current instead of writing it.
import { readFileSync, writeFileSync } from 'node:fs';
import { diagnosticCodes } from '../codes.ts';
import { functionSpecs } from '../../plan/functions.ts';
import * as S from './settings.ts';
import { moduleSpecs } from './module-spec.ts';
import { clauseWords, declarationKeywords, fhirVerbs, httpVerbs, literalWords, operatorWords, statements, valueFunctions } from './statements.ts';
import { ackCodes, conversions } from './enumerations.ts';

const root = new URL('../../', import.meta.url);
const check = process.argv.includes('--check');
let stale = 0;

function write(rel: string, next: string): void {
  const url = new URL(rel, root);
  const prior = readFileSync(url, 'utf8');
  if (prior === next) return;
  if (check) { console.error(`${rel} is not current: run npm run gen`); stale++; return; }
  writeFileSync(url, next);
  console.log(`wrote ${rel}`);
}

// ---- docs/language.md ---------------------------------------------------------------------------
const cell = (s: string) => s.replace(/\|/g, '\\|');

function settingsTable(spec: S.SettingsSpec, nestedInline: boolean): string {
  const rows = Object.entries(spec).map(([key, sp]) => {
    const kind = (sp.kind === 'enum' ? (sp.options ?? []).join(' \\| ') : sp.kind) + (sp.duration ? ' + duration' : '');
    const block = sp.block && nestedInline ? ` Block: ${Object.keys(sp.block).map((k) => `\`${k}\``).join(', ')}.` : '';
    return `| \`${key}\` | ${kind} | ${sp.required ? 'yes' : ''} | ${cell(sp.doc)}${block} |`;
  });
  return ['| setting | value | required | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function settingsSection(): string {
  const parts: string[] = [];
  const table = (title: string, spec: S.SettingsSpec) => parts.push(`#### ${title}\n\n${settingsTable(spec, true)}\n`);
  for (const [kind, spec] of Object.entries(S.authSpecs)) table(`auth … ${kind}`, spec);
  table('api', S.apiSpec);
  table('sender', S.senderSpec);
  table('identity block', S.identitySpec);
  table('workflow', S.workflowSpec);
  table('smart launch', S.launchSpec);
  for (const [method, spec] of Object.entries(S.loginSpecs)) table(`login ${method}`, spec);
  for (const m of moduleSpecs()) for (const d of m.declarations) table(`${d.keyword} (module ${m.name})`, d.settings);
  return parts.join('\n');
}

function functionsSection(): string {
  const rows = Object.entries(functionSpecs).map(([, f]) => {
    const at = f.doc.indexOf(': ');
    const signature = at < 0 ? f.doc : f.doc.slice(0, at);
    const meaning = at < 0 ? '' : f.doc.slice(at + 2);
    return `| \`${cell(signature)}\` | ${f.returns} | ${cell(meaning)} |`;
  });
  return ['| function | returns | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}

function codesSection(): string {
  const rows = Object.entries(diagnosticCodes).map(([code, c]) => `| ${code} | ${c.summary} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n') + '\n';
}

function statementsSection(): string {
  const where = { file: 'a file', sender: 'a sender', workflow: 'a workflow', launch: 'a launch', test: 'a test' } as const;
  const rows = statements.map((s) => `| ${where[s.in]} | \`${s.keyword}\` | \`${cell(s.follows)}\` | ${s.verbs ? s.verbs.map((v) => `\`${v}\``).join(', ') : ''} | ${cell(s.doc)} |`);
  const modules = moduleSpecs().flatMap((m) => m.declarations.map((d) =>
    `| a file | \`${d.keyword}\` | \`${d.name === 'none' ? '' : d.name === 'optional' ? '[NAME] ' : 'NAME '}${d.from ? `${d.fromRequired ? '' : '['}from ${d.from.toUpperCase()}${d.fromRequired ? '' : ']'} ` : ''}{ settings }\` |  | ${cell(d.doc)} (module ${m.name}) |`));
  const enums = [
    '',
    `ACK codes: ${Object.entries(ackCodes).map(([c, d]) => `\`${c}\` (${d.replace(/\.$/, '')})`).join('; ')}.`,
    '',
    `Conversions (\`as …\`): ${Object.entries(conversions).map(([c, d]) => `\`${c}\` (${d.replace(/\.$/, '')})`).join('; ')}.`,
  ];
  return ['| in | keyword | then | forms | meaning |', '|---|---|---|---|---|', ...rows, ...modules, ...enums].join('\n') + '\n';
}

function replaceBetween(text: string, name: string, body: string): string {
  const open = `<!-- generated: ${name} -->`;
  const close = `<!-- /generated: ${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) throw new Error(`docs/language.md lacks the ${open} … ${close} markers`);
  return text.slice(0, a + open.length) + '\n\n' + body.trimEnd() + '\n\n' + text.slice(b);
}

let docs = readFileSync(new URL('docs/language.md', root), 'utf8');
docs = replaceBetween(docs, 'statements', statementsSection());
docs = replaceBetween(docs, 'settings', settingsSection());
docs = replaceBetween(docs, 'functions', functionsSection());
docs = replaceBetween(docs, 'codes', codesSection());
write('docs/language.md', docs);

// ---- the TextMate grammar -------------------------------------------------------------------------
const alt = (words: readonly string[]) => [...new Set(words)].join('|');
/** Words that start a statement inside a block (request verbs included). */
const blockStatementWords = statements.filter((s) => s.in !== 'file').flatMap((s) => (s.verbs && s.in === 'workflow' ? [...s.verbs] : [s.keyword]));
const settingKeys = (specs: S.SettingsSpec[]): string[] => {
  const out = new Set<string>();
  const add = (spec: S.SettingsSpec) => { for (const [k, sp] of Object.entries(spec)) { out.add(k); if (sp.block) add(sp.block); } };
  specs.forEach(add);
  return [...out].sort();
};
const allSettings = settingKeys([...Object.values(S.authSpecs), S.apiSpec, S.senderSpec, S.workflowSpec, S.launchSpec, ...Object.values(S.loginSpecs), ...moduleSpecs().flatMap((m) => m.declarations.map((d) => d.settings))]);
const logical = operatorWords.filter((w) => w !== 'in');
// `auth NAME` is also an api setting, so a line starting with auth may be one.
const lineStarts = [...blockStatementWords, 'else', 'when', 'otherwise', 'require', 'map', ...declarationKeywords().filter((k) => k !== 'auth'), ...logical, ...literalWords, ...valueFunctions];
const controlWords = [...blockStatementWords.filter((w) => !(fhirVerbs as readonly string[]).includes(w) && !(httpVerbs as readonly string[]).includes(w)), 'in', 'map', ...clauseWords];
const patterns: Record<string, string> = {
  'request-verbs': `\\b(${alt([...fhirVerbs, ...httpVerbs])})\\b(?=\\s)`,
  'logical-operators': `\\b(${alt(logical)})\\b`,
  'literals': `\\b(${alt(literalWords)})\\b`,
  'control-keywords': `\\b(${alt(controlWords)})\\b(?!\\s*:)`,
  'value-functions': `\\b(${alt(valueFunctions)})\\b(?=\\s*\\()`,
  'setting-line': `^\\s*(?!(?:${alt(lineStarts)})\\b)([A-Za-z_][A-Za-z0-9_]*)\\b(?=[ \\t]+[^=:\\s])`,
  // Settings that are also clauses of statements (send … path, store … key, get … query, login … require) keep the keyword colour.
  'setting-keys': `\\b(${alt(allSettings.filter((k) => !['key', 'path', 'query', 'require'].includes(k)))})\\b(?=[ \\t]+[^=:\\s])`,
};

interface Pattern { comment?: string; match?: string; patterns?: Pattern[]; [k: string]: unknown }
const grammarFile = 'vscode-extension/syntaxes/hdc.tmLanguage.json';
const grammar = JSON.parse(readFileSync(new URL(grammarFile, root), 'utf8')) as { repository: Record<string, Pattern> };
const seen = new Set<string>();
const visit = (p: Pattern) => {
  const name = p.comment?.startsWith('generated: ') ? p.comment.slice('generated: '.length) : undefined;
  if (name) {
    if (!(name in patterns)) throw new Error(`${grammarFile}: no generator for "${name}"`);
    p.match = patterns[name];
    seen.add(name);
  }
  p.patterns?.forEach(visit);
};
Object.values(grammar.repository).forEach(visit);
for (const name of Object.keys(patterns)) if (!seen.has(name)) throw new Error(`${grammarFile}: no pattern marked "generated: ${name}"`);
write(grammarFile, JSON.stringify(grammar, null, 2) + '\n');

if (stale) process.exit(1);
