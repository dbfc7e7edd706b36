// Contracts between parts that must not drift: the compiler's function table and the runtime's
// evaluator, the diagnostic codes and their documentation, the settings tables and the docs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { functions } from '../../compiler/semantics/functions.ts';
import { functionNames } from '../../runtime/workflows/expr/functions.ts';
import { codes } from '../../compiler/codes.ts';
import * as S from '../../compiler/semantics/settings.ts';

const docs = readFileSync(new URL('../../docs/language.md', import.meta.url), 'utf8');

test('the compiler and the runtime know the same functions', () => {
  assert.equal(Object.keys(functions).sort(), [...functionNames].sort());
});

test('every diagnostic code is documented with its meaning', () => {
  for (const code of Object.keys(codes)) assert.ok(docs.includes(`| ${code} |`), `${code} missing from docs/language.md`);
});

test('every function and every setting is documented', () => {
  for (const name of Object.keys(functions)) assert.ok(docs.includes(`\`${name}(`), `function ${name} missing from docs/language.md`);
  const tables = [S.senderSpec, S.apiSpec, S.launchSpec, S.workflowSpec, ...Object.values(S.authSpecs), ...Object.values(S.loginSpecs)];
  for (const spec of tables) for (const key of Object.keys(spec)) assert.ok(docs.includes(`\`${key}\``), `setting ${key} missing from docs/language.md`);
});

test.run();
