// The `hdc/tests` request: the `test` blocks of a file (or of every .hdc file in the workspace),
// read from the parse alone, for the VS Code Testing API. The extension keeps no parser of its own.
import type { Range } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import { toLspRange } from '../ranges.ts';
import { pathToUri } from '../workspace.ts';

export const TESTS_REQUEST = 'hdc/tests';

/** Params: a file, or none for the workspace's files. */
export interface TestsParams { textDocument?: { uri: string } }

/** A `test` block: its name, the whole block and the name's range. */
export interface TestBlock { name: string; range: Range; selectionRange: Range }

export interface FileTests { uri: string; tests: TestBlock[] }

export function testBlocks(file: A.SourceFile): FileTests {
  const tests = file.decls
    .filter((d): d is A.TestDecl => d.kind === 'test')
    .map((t) => ({ name: t.name.value, range: toLspRange(t.range), selectionRange: toLspRange(t.name.range) }));
  return { uri: pathToUri(file.file), tests };
}
