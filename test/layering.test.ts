// The folders' boundaries (README "Layout"): the runtime reads plans only, nothing depends on the
// CLI, the plan contract depends on nothing, and a module reaches neither another module nor the
// compiler. Checked over every import, static or dynamic, of every source file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The repository-relative paths a file imports (relative specifiers only). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(root, resolve(root, dirname(file), s)));
}

const rules: { from: string; forbidden: string[]; except?: (target: string) => boolean }[] = [
  { from: 'runtime', forbidden: ['compiler/', 'cli/', 'language-server/'] },
  { from: 'plan', forbidden: ['compiler/', 'runtime/', 'cli/', 'modules/', 'language-server/'] },
  { from: 'compiler', forbidden: ['cli/', 'language-server/'] },
  { from: 'language-server', forbidden: ['cli/', 'runtime/'] },
  { from: 'modules', forbidden: ['cli/', 'language-server/'] },
];

for (const rule of rules) {
  test(`${rule.from}/ imports nothing from ${rule.forbidden.join(', ')}`, () => {
    const offences = sources(rule.from).flatMap((f) => importsOf(f).filter((t) => rule.forbidden.some((p) => t.startsWith(p))).map((t) => `${f} → ${t}`));
    assert.equal(offences, []);
  });
}

test('a module reaches no other module, and the runtime reaches modules only through their catalog and services', () => {
  const offences: string[] = [];
  // The two indexes list every module: catalog.ts their services, specs.ts their specs.
  const indexes = new Set(['modules/catalog.ts', 'modules/specs.ts']);
  for (const f of sources('modules').filter((f) => !indexes.has(f))) {
    const own = f.split('/')[1]!;
    for (const t of importsOf(f)) {
      if (t.startsWith('modules/') && !indexes.has(t) && t.split('/')[1] !== own) offences.push(`${f} → ${t}`);
    }
  }
  // The runtime loads modules through the catalog only. (`hdc test` runs a launch's steps with
  // the SMART module's own code, so the test runner is the one other door.)
  for (const f of sources('runtime')) {
    for (const t of importsOf(f)) {
      if (t.startsWith('modules/') && t !== 'modules/catalog.ts' && !(f === 'runtime/testing/launch-test.ts' && t.startsWith('modules/smart/'))) offences.push(`${f} → ${t}`);
    }
  }
  assert.equal(offences, []);
});

test.run();
