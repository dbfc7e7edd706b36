// The spec suite covers the language's diagnostics: every code in compiler/codes.ts appears in the
// expected diagnostics of at least one case in test/compiler/cases (a .hdc file beside its exact
// diagnostics and plan). The codes no source file can provoke name the test that covers them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { diagnosticCodes, type Code } from '../../compiler/codes.ts';

const dir = new URL('./cases/', import.meta.url);

const coveredElsewhere: Partial<Record<Code, string>> = {
  HDC1000: 'test/compiler/stages.test.ts (a compiler failure is reported, not thrown)',
  HDC1006: 'test/compiler/format/format.test.ts (the formatter\'s safety net: it must never fire on a file that parses)',
  HDC7010: 'test/language-server/run-tests.test.ts (a failing expectation of `hdc test` run from the editor)',
};

test('every diagnostic code has a case in test/compiler/cases', () => {
  const seen = new Set<string>();
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.expected.json'))) {
    const expected = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as { diagnostics: Array<{ code: string }> };
    for (const d of expected.diagnostics) seen.add(d.code);
  }
  const missing = Object.keys(diagnosticCodes).filter((code) => !seen.has(code) && !coveredElsewhere[code as Code]);
  assert.equal(missing, [], `codes without a case: ${missing.join(', ')}`);
});

test('every case holds only known codes', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.expected.json'))) {
    const expected = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as { diagnostics: Array<{ code: string }> };
    for (const d of expected.diagnostics) assert.ok(d.code in diagnosticCodes, `${name}: ${d.code} is not in compiler/codes.ts`);
  }
});

test.run();
