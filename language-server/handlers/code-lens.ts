// Code lenses over `test` blocks: "Run test" on each and "Run all tests" on the first of a file.
// They name the server's commands (workspace/executeCommand): the real `hdc test`, its failing
// expectations as diagnostics (test-runner.ts).
import type { CodeLens } from 'vscode-languageserver';
import type * as A from '../../compiler/syntax/ast.ts';
import { toLspRange } from '../ranges.ts';
import { pathToUri } from '../workspace.ts';
import { RUN_TEST_COMMAND, RUN_TESTS_COMMAND } from '../test-runner.ts';

export function codeLenses(file: A.SourceFile): CodeLens[] {
  const tests = file.decls.filter((d): d is A.TestDecl => d.kind === 'test');
  const uri = pathToUri(file.file);
  const out: CodeLens[] = [];
  tests.forEach((t, i) => {
    const range = toLspRange(t.name.range);
    if (i === 0 && tests.length > 1) out.push({ range, command: { title: 'Run all tests', command: RUN_TESTS_COMMAND, arguments: [uri] } });
    out.push({ range, command: { title: 'Run test', command: RUN_TEST_COMMAND, arguments: [uri, t.name.value] } });
  });
  return out;
}
