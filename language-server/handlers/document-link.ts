// Document links: `import "…"` and `file("…")` open the file they name, resolved from the file
// that names them (as the compiler and `hdc test` resolve them).
import type { DocumentLink } from 'vscode-languageserver';
import { dirname, resolve } from 'node:path';
import type * as A from '../../compiler/syntax/ast.ts';
import { walk } from '../../compiler/syntax/visit.ts';
import { toLspRange } from '../ranges.ts';
import { pathToUri, toPosixPath } from '../workspace.ts';

export function documentLinks(file: A.SourceFile): DocumentLink[] {
  if (!file.file.startsWith('/') && !/^[A-Za-z]:\//.test(file.file)) return [];
  const here = dirname(file.file);
  const out: DocumentLink[] = [];
  const link = (s: A.StringLit, tooltip: string) => {
    if (!s.value) return;
    out.push({ range: toLspRange(s.range), target: pathToUri(toPosixPath(resolve(here, s.value))), tooltip });
  };
  for (const d of file.decls) if (d.kind === 'import') link(d.path, 'Open the imported file');
  walk(file, (n) => {
    if (n.kind === 'file' && n.path.kind === 'string') link(n.path, 'Open the file');
  });
  return out;
}
