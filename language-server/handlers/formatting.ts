// Formatting with the formatter `hdc fmt` uses, in the document's own line endings. The edit covers only the changed middle of the
// document (common head and tail kept), so the editor keeps the cursor and folds elsewhere.
import type { DocumentFormattingParams, TextEdit } from 'vscode-languageserver';
import { formatSource } from '../../compiler/format/format.ts';
import { uriToPath } from '../workspace.ts';
import type { ServerContext } from '../server.ts';

export function formatting(ctx: ServerContext, params: DocumentFormattingParams): TextEdit[] | null {
  const doc = ctx.document(params.textDocument.uri);
  if (!doc) return null;
  const text = doc.getText();
  // The document keeps its line endings: a canonical CRLF file gets no edit.
  const crlf = text.includes('\r\n');
  const result = formatSource(crlf ? text.replace(/\r\n/g, '\n') : text, uriToPath(params.textDocument.uri));
  const formatted = crlf ? result.text.replace(/\n/g, '\r\n') : result.text;
  // Text that does not parse is left alone: the diagnostics already say why.
  if (!result.changed || formatted === text) return [];
  let head = 0;
  const max = Math.min(text.length, formatted.length);
  while (head < max && text[head] === formatted[head]) head++;
  let tail = 0;
  while (tail < max - head && text[text.length - 1 - tail] === formatted[formatted.length - 1 - tail]) tail++;
  return [{
    range: { start: doc.positionAt(head), end: doc.positionAt(text.length - tail) },
    newText: formatted.slice(head, formatted.length - tail),
  }];
}
