// Folding ranges from the AST: every node that spans lines (declarations, blocks, bodies, objects),
// runs of line comments, block comments and the run of imports at the top of a file.
import { FoldingRangeKind, type FoldingRange } from 'vscode-languageserver';
import type { SourceFile } from '../../compiler/syntax/ast.ts';
import { walk } from '../../compiler/syntax/visit.ts';

export function foldingRanges(file: SourceFile): FoldingRange[] {
  const out: FoldingRange[] = [];
  const seen = new Set<number>();
  // One range per start line (the outermost): editors fold by line.
  const add = (startLine: number, endLine: number, kind?: FoldingRangeKind) => {
    const start = startLine - 1;
    const end = endLine - 1;
    if (end <= start || seen.has(start)) return;
    seen.add(start);
    out.push(kind ? { startLine: start, endLine: end, kind } : { startLine: start, endLine: end });
  };
  const lines = file.text.split('\n');
  // A block whose "}" starts its line folds up to the line before, so the brace stays visible.
  const blockEnd = (endLine: number, endCol: number) => (endCol > 1 && /^\s*\}/.test(lines[endLine - 1] ?? '') ? endLine - 1 : endLine);

  for (const d of file.decls) add(d.range.start.line, blockEnd(d.range.end.line, d.range.end.col));
  walk(file, (node) => {
    const r = node.range;
    if (r.end.line > r.start.line) add(r.start.line, blockEnd(r.end.line, r.end.col));
    const inner = node.kind === 'sender' ? node.fieldsRange : node.kind === 'launch' && 'fetchRange' in node ? node.fetchRange : undefined;
    {
      if (inner && inner.end.line > inner.start.line) add(inner.start.line, blockEnd(inner.end.line, inner.end.col));
    }
  });

  const imports = file.decls.filter((d) => d.kind === 'import');
  if (imports.length > 1) add(imports[0]!.range.start.line, imports[imports.length - 1]!.range.end.line, FoldingRangeKind.Imports);

  let run: { start: number; end: number } | undefined;
  const flush = () => {
    if (run && run.end > run.start) add(run.start, run.end, FoldingRangeKind.Comment);
    run = undefined;
  };
  for (const c of file.comments) {
    if (c.block) {
      flush();
      add(c.range.start.line, c.range.end.line, FoldingRangeKind.Comment);
    } else if (run && c.range.start.line === run.end + 1) run.end = c.range.start.line;
    else {
      flush();
      run = { start: c.range.start.line, end: c.range.start.line };
    }
  }
  flush();
  return out.sort((a, b) => a.startLine - b.startLine);
}
