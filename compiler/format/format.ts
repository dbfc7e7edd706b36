// `hdc fmt`: the one canonical layout of .hdc text. It is rebuilt from the syntax tree, keeping
// every comment and the literals as written; files that do not parse are returned untouched.
import type { Diagnostic } from '../diagnostics.ts';
import { isError } from '../diagnostics.ts';
import { parse } from '../syntax/parser.ts';
import { attachComments } from './comments.ts';
import { FormatContext } from './context.ts';
import { declItem } from './declarations.ts';
import { block } from './layout.ts';
import { sameSyntax } from './same-syntax.ts';

export interface FormatResult {
  text: string;
  changed: boolean;
  diagnostics: Diagnostic[];
}

export function formatSource(text: string, file: string): FormatResult {
  const { ast, diagnostics } = parse(text, file);
  if (diagnostics.some(isError)) return { text, changed: false, diagnostics };

  const ctx = new FormatContext(text);
  const root = block(-1, Infinity, ast.decls.map((d) => declItem(ctx, d)));
  attachComments(root, ast.comments, text);
  const lines = ctx.blocks.lines(root, 0, true);
  const out = lines.length > 0 ? lines.join('\n') + '\n' : '';

  // A safety net for grammar the formatter does not know yet: never write text that means
  // something else or loses a comment.
  const check = parse(out, file);
  const problem = check.diagnostics.some(isError)
    ? 'the formatted text does not parse'
    : !sameSyntax(ast, check.ast)
      ? 'the formatted text would parse differently'
      : undefined;
  if (problem) {
    return {
      text, changed: false,
      diagnostics: [{
        code: FORMAT_FAILED, severity: 'error', file, range: ast.range,
        summary: `cannot format ${file}: ${problem}; the file is left as it is`,
        detail: 'This is a formatter bug; please report it with the file.',
      }],
    };
  }
  return { text: out, changed: out !== text, diagnostics };
}

/** The formatter refused to rewrite a file it could not reproduce faithfully. */
export const FORMAT_FAILED = 'HDC1006';
