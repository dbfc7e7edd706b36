// Hover on the language's own words: auth and API kinds, ACK codes, env() and file() (with the file
// they name), imports (what the imported file declares) and the clause keywords (`where`, `run`,
// `each` …), each explained from the vocabulary in compiler/specs/.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type * as A from '../../compiler/syntax/ast.ts';
import * as T from '../../compiler/syntax/tokens.ts';
import type { AnyNode } from '../../compiler/syntax/visit.ts';
import { ackCodes, apiKinds, authKinds, valueFunctionDocs } from '../../compiler/specs/enumerations.ts';
import { clauses, operatorWords } from '../../compiler/specs/statements.ts';
import { stdImport } from '../../compiler/std-library.ts';
import { touches } from '../ranges.ts';
import { toPosixPath } from '../workspace.ts';
import type { ProjectAnalysis } from '../analysis.ts';

type Found = { text: string; range: A.Range } | undefined;

const docOf = <M extends Record<string, string>>(map: M, word: string): string | undefined => (Object.hasOwn(map, word) ? map[word as keyof M] : undefined);

/** A word of the language under the cursor in node n (the innermost node first). */
export function wordHover(analysis: ProjectAnalysis, file: A.SourceFile, n: AnyNode, offset: number): Found {
  if (n.kind === 'auth' && touches(n.authKind.range, offset)) {
    const doc = docOf(authKinds, n.authKind.name);
    return doc ? { text: `**${n.authKind.name}** (auth kind) — ${doc}`, range: n.authKind.range } : undefined;
  }
  if (n.kind === 'api' && touches(n.apiKind.range, offset)) {
    const doc = docOf(apiKinds, n.apiKind.name);
    return doc ? { text: `**${n.apiKind.name}** (API kind) — ${doc}`, range: n.apiKind.range } : undefined;
  }
  const code = n.kind === 'reject' ? n.code : n.kind === 'expect' && n.what === 'ack' ? n.code : undefined;
  if (code && touches(code.range, offset)) {
    const doc = docOf(ackCodes, code.name);
    return doc ? { text: `**${code.name}** (ACK code, MSA-1) — ${doc}`, range: code.range } : undefined;
  }
  if (n.kind === 'env') return { text: `**env(${n.name.raw})** — ${valueFunctionDocs.env}`, range: n.range };
  if (n.kind === 'file') {
    const named = n.path.kind === 'string' ? fileLine(file.file, n.path.value) : 'The path comes from the environment.';
    return { text: `**file(…)** — ${valueFunctionDocs.file}\n\n${named}`, range: n.range };
  }
  if (n.kind === 'import' && touches(n.path.range, offset)) return { text: importText(analysis, file.file, n.path.value), range: n.path.range };
  return undefined;
}

/** `where`, `run`, `each` …: the clause keyword under the cursor (read from the tokens of its line). */
export function clauseHover(file: A.SourceFile, offset: number): Found {
  const lineStart = file.text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = file.text.indexOf('\n', offset);
  const line = file.text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const t = T.hdcLexer.tokenize(line).tokens.find((x) => lineStart + x.startOffset <= offset && offset <= lineStart + (x.endOffset ?? x.startOffset) + 1);
  if (!t || t.tokenType === T.Identifier || !T.keywordList.includes(t.image)) return undefined;
  const doc = docOf(clauses, t.image) ?? (operatorWords.includes(t.image as (typeof operatorWords)[number]) ? `A logical operator in conditions (${operatorWords.join(', ')}).` : undefined);
  if (!doc) return undefined;
  const start = lineStart + t.startOffset;
  const lineNo = file.text.slice(0, start).split('\n').length;
  const col = start - lineStart + 1;
  return {
    text: `**${t.image}** — ${doc}`,
    range: { start: { line: lineNo, col, offset: start }, end: { line: lineNo, col: col + t.image.length, offset: start + t.image.length } },
  };
}

function fileLine(from: string, path: string): string {
  if (!path) return '';
  if (!from.startsWith('/') && !/^[A-Za-z]:\//.test(from)) return `\`${path}\``;
  const target = toPosixPath(resolve(dirname(from), path));
  return `\`${target}\` ${existsSync(target) ? '' : '(not found)'}`.trim();
}

function importText(analysis: ProjectAnalysis, from: string, path: string): string {
  const std = stdImport(path);
  if (std) {
    const names = std.flatMap((f) => analysis.files.get(f)?.decls ?? []).flatMap((d) => (d.kind === 'transform' || d.kind === 'map' ? [d.name.name] : []));
    return `**import "${path}"** — the ${path} library shipped with hdc${names.length ? `: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}` : ''}`;
  }
  const target = toPosixPath(resolve(dirname(from), path));
  const imported = analysis.files.get(target);
  if (!imported) return `**import "${path}"** — \`${target}\` (not found)`;
  const names = imported.decls.flatMap((d) => (d.kind === 'import' || d.kind === 'store_decl' ? [] : [`${d.kind === 'module' ? d.keyword.name : d.kind} ${d.kind === 'test' ? JSON.stringify(d.name.value) : d.kind === 'module' ? (d.name?.name ?? '') : d.name.name}`.trim()]));
  return `**import "${path}"** — \`${target}\`: ${names.join(', ') || 'no declarations'}`;
}
