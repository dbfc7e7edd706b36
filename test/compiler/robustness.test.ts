// The compiler never throws: hundreds of mutated, truncated and shuffled versions of the examples
// and golden cases (deterministic seed) all end in diagnostics or a plan.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { compileSources, findHdcFiles } from '../../compiler/api.ts';

const root = new URL('../..', import.meta.url).pathname;
process.chdir(root);
const sources = findHdcFiles(['examples', 'test/compiler/cases']).map((f) => readFileSync(f, 'utf8'));

let seed = Number(process.env.HDC_FUZZ_SEED) || 0x9e3779b9;
const random = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 0x100000000;
};
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
const noise = ['{', '}', '(', ')', '"', '=', '==', ',', '.', '[*]', '-', '->', 'PID-', '^', '\\', '\n', '/*', '//', '"{', 'where', 'each', 'if', 'for each', '\u0000', 'é', '${', '9999999999999999999999'];

function mutate(text: string): string {
  const kind = Math.floor(random() * 5);
  const at = Math.floor(random() * text.length);
  switch (kind) {
    case 0: return text.slice(0, at); // truncated
    case 1: return text.slice(0, at) + pick(noise) + text.slice(at); // inserted
    case 2: return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 20)); // deleted
    case 3: { // shuffled lines
      const lines = text.split('\n');
      for (let i = lines.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [lines[i], lines[j]] = [lines[j], lines[i]]; }
      return lines.join('\n');
    }
    default: { // a line duplicated elsewhere
      const lines = text.split('\n');
      lines.splice(Math.floor(random() * lines.length), 0, pick(lines));
      return lines.join('\n');
    }
  }
}

test('600 mutated sources end in diagnostics or a plan, never an exception', () => {
  let withErrors = 0;
  for (let i = 0; i < (Number(process.env.HDC_FUZZ_COUNT) || 600); i++) {
    let text = pick(sources);
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--) text = mutate(text);
    let result;
    try {
      result = compileSources(new Map([[`mutant-${i}.hdc`, text]]), { readFile: () => undefined, fileExists: () => false });
    } catch (e) {
      assert.unreachable(`mutant ${i} threw ${(e as Error).stack}\n--- source ---\n${text}`);
    }
    assert.ok(result!.plan || result!.diagnostics.some((d) => d.severity === 'error'), `mutant ${i}: neither plan nor error`);
    assert.not.ok(result!.diagnostics.some((d) => d.detail.startsWith('Internal error')), `mutant ${i}: internal error ${JSON.stringify(result!.diagnostics.find((d) => d.detail.startsWith('Internal')))}\n${text}`);
    for (const d of result!.diagnostics) {
      assert.ok(d.range.start.line >= 1 && d.range.start.col >= 1, `mutant ${i}: bad range in ${d.code}`);
      assert.ok(d.code && d.summary && d.detail, `mutant ${i}: incomplete diagnostic`);
    }
    if (result!.diagnostics.some((d) => d.severity === 'error')) withErrors++;
  }
  assert.ok(withErrors > 300, `the mutations should break most sources (${withErrors})`);
});

test.run();
