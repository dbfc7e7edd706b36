// The golden suite: each test/compiler/cases/NAME.hdc beside NAME.expected.json holding the
// expected diagnostics (code, severity, exact range, summary) and, when it compiles, the plan.
// HDC_UPDATE_GOLDEN=1 rewrites the expectations; review the diff before committing it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { compileSources } from '../../compiler/api.ts';
import { validate } from '../../plan/validate-plan.js';

const root = new URL('../..', import.meta.url).pathname;
process.chdir(root);
const dir = 'test/compiler/cases';
const update = process.env.HDC_UPDATE_GOLDEN === '1';

for (const name of readdirSync(dir).filter((f) => f.endsWith('.hdc')).sort()) {
  test(name, () => {
    const file = `${dir}/${name}`;
    const result = compileSources(new Map([[file, readFileSync(file, 'utf8')]]));
    const actual = {
      diagnostics: result.diagnostics.map((d) => ({
        code: d.code,
        severity: d.severity,
        range: `${d.range.start.line}:${d.range.start.col}-${d.range.end.line}:${d.range.end.col}`,
        summary: d.summary,
      })),
      plan: result.plan ?? null,
    };
    if (result.plan) assert.ok(validate(result.plan), `plan fails its schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    const expectedFile = file.replace(/\.hdc$/, '.expected.json');
    const text = JSON.stringify(actual, null, 2) + '\n';
    if (update || !existsSync(expectedFile)) {
      writeFileSync(expectedFile, text);
      if (!update) assert.unreachable(`wrote missing ${expectedFile}; review and commit it`);
      return;
    }
    assert.equal(actual, JSON.parse(readFileSync(expectedFile, 'utf8')));
  });
}

test('every case is deterministic: compiling twice gives byte-identical plans', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.hdc'))) {
    const file = `${dir}/${name}`;
    const src = new Map([[file, readFileSync(file, 'utf8')]]);
    const a = compileSources(src).plan;
    const b = compileSources(src).plan;
    assert.is(JSON.stringify(a), JSON.stringify(b), name);
  }
});

test.run();
