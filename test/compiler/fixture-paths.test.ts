// Test fixtures are found beside their .hdc file whether the file is named by a relative or an
// absolute path (editors send absolute paths; a dropped leading "/" made every fixture "not found"
// unless the working directory happened to be "/").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { compileFiles, compileSources } from '../../compiler/api.ts';

const dir = mkdtempSync(join(tmpdir(), 'hdc-fixtures-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'fixtures'));
writeFileSync(join(dir, 'fixtures', 'adt.hl7'), 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5.1\r');
const source = `sender s {
  path "/hl7/s"
  version "2.5.1"
  accept ADT^A01
}

test "fixture" {
  send file("fixtures/adt.hl7") to s
  expect ack AA
}
`;
const file = join(dir, 'flows.hdc');
writeFileSync(file, source);

test('an absolute .hdc path finds its fixture', () => {
  const { diagnostics, plan } = compileSources(new Map([[file, source]]));
  assert.equal(diagnostics.filter((d) => d.code === 'HDC7002'), []);
  assert.is(plan?.tests[0]?.send?.message.file, join(dir, 'fixtures', 'adt.hl7'));
});

test('a relative .hdc path finds it too, and a missing fixture is still reported', async () => {
  const rel = relative(process.cwd(), file);
  assert.equal((await compileFiles([rel])).diagnostics.filter((d) => d.code === 'HDC7002'), []);
  const missing = source.replace('fixtures/adt.hl7', 'fixtures/none.hl7');
  const d = compileSources(new Map([[file, missing]])).diagnostics.find((x) => x.code === 'HDC7002');
  assert.ok(d, 'missing fixture reported');
  assert.match(d!.detail ?? '', new RegExp(`Looked for ${join(dir, 'fixtures', 'none.hl7')}`));
});

test.run();
