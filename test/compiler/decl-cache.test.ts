// Incremental analysis (compiler/semantics/decl-cache.ts): after any edit, a compile that replays
// unchanged senders and workflows gives exactly the diagnostics and plan of a compile from scratch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type CompileOptions } from '../../compiler/api.ts';
import { DeclCache } from '../../compiler/semantics/decl-cache.ts';

const examples = new URL('../../examples/', import.meta.url).pathname;

function projectOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of readdirSync(dir).filter((n) => n.endsWith('.hdc')).sort()) out.set(join(dir, n), readFileSync(join(dir, n), 'utf8'));
  return out;
}

/** Edits an author makes: each applies to the first file it matches. */
const edits: Array<[name: string, from: RegExp, to: string]> = [
  ['comment at the end', /$/, '\n// note\n'],
  ['route to a misspelt workflow', /run (\w+)/, 'run $1x'],
  ['a field dropped', /\n\s+\w+ = [A-Z][A-Z0-9]{2}-[\d.]+\n/, '\n'],
  ['a field renamed', /\n(\s+)(\w+) = ([A-Z][A-Z0-9]{2}-)/, '\n$1$2_renamed = $3'],
  ['a statement added to a workflow', /(workflow \w+ \{\n)/, '$1  let added = 1\n'],
  ['a line inserted above everything', /^/, '\n\n'],
  ['an API renamed', /api (\w+)/, 'api $1_other'],
  ['a syntax error in a workflow', /(workflow \w+ \{\n)/, '$1  if {\n'],
];

const comparable = (r: ReturnType<typeof compile>) => JSON.stringify({ diagnostics: r.diagnostics, plan: r.plan });

for (const name of readdirSync(examples).sort()) {
  test(`${name}: every edit gives the diagnostics and plan of a fresh compile`, () => {
    const original = projectOf(join(examples, name));
    const declCache = new DeclCache();
    const opts: CompileOptions = { parseCache: new Map(), declCache };
    compile(original, opts);
    let reused = 0;
    for (const [what, from, to] of edits) {
      const file = [...original.keys()].find((f) => from.test(original.get(f)!));
      if (!file) continue;
      const edited = new Map(original).set(file, original.get(file)!.replace(from, to));
      for (const sources of [edited, original]) {
        const incremental = compile(sources, opts);
        reused += declCache.last.reused;
        assert.is(comparable(incremental), comparable(compile(sources)), `${what} in ${file}`);
      }
    }
    if (original.size > 1) assert.ok(reused > 0, 'declarations of unedited files are replayed');
  });
}

test('only the edited file and the workflows its senders route to are lowered again', () => {
  const sender = (i: number, to: string) => `sender s${i} {\n  path "/hl7/s${i}"\n  accept ADT^A01\n  fields { mrn = PID-3.1 }\n  on ADT^A01 run ${to}\n}\n`;
  const workflow = (i: number) => `workflow w${i} {\n  store mrn in "ids_${i}"\n}\n`;
  const sources = new Map([['a.hdc', sender(1, 'w1') + sender(2, 'w2')], ['b.hdc', workflow(1) + workflow(2)], ['c.hdc', workflow(3)]]);
  const declCache = new DeclCache();
  const opts: CompileOptions = { parseCache: new Map(), declCache, until: 'checked' };
  compile(sources, opts);
  assert.equal(declCache.last, { reused: 0, lowered: 5 });
  compile(sources, opts);
  assert.equal(declCache.last, { reused: 5, lowered: 0 });
  // A workflow edited: its file's workflows; the senders and c.hdc's workflow are replayed.
  const body = new Map(sources).set('b.hdc', workflow(1) + workflow(2).replace('store', 'let x = 1\n  store'));
  compile(body, opts);
  assert.equal(declCache.last, { reused: 3, lowered: 2 });
  // s2 now routes to w3: a.hdc's senders, then every workflow they route to (now or before).
  const rerouted = new Map(body).set('a.hdc', sender(1, 'w1') + sender(2, 'w3'));
  const r = compile(rerouted, opts);
  assert.equal(declCache.last, { reused: 0, lowered: 5 });
  assert.is(comparable(r), comparable(compile(rerouted, { until: 'checked' })));
  compile(rerouted, opts);
  assert.equal(declCache.last, { reused: 5, lowered: 0 });
});

test.run();
