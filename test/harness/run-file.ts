// Runs one uvu test file through uvu's own queue (as `uvu/run` does) and reports its counts as
// JSON on file descriptor 3, so the suite runner never parses uvu's human-readable summary.
// uvu's exec() prints the per-test marks and failures as usual on stdout.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runtimeSkips } from './skip.ts';
import { corpusMisses } from '../corpus.ts';

type SuiteRun = () => Promise<[true | string, number, number, number]>;
type Queue = [string | null, ...SuiteRun[]][];

const file = process.argv[2];
if (!file) throw new Error('usage: run-file.ts <test file>');

const g = globalThis as { UVU_DEFER?: number; UVU_QUEUE?: Queue; UVU_INDEX?: number };
g.UVU_DEFER = 1;
await import('uvu');
g.UVU_INDEX = 0;
g.UVU_QUEUE!.push([file]);
try {
  await import(pathToFileURL(file).href);
} catch (err) {
  // A file that reads the corpus as it loads: one skipped test stands for it.
  if ((err as Error)?.name !== 'CorpusMissing') throw err;
  console.log(`  skipped: ${(err as Error).message}`);
  writeSync(3, JSON.stringify({ passed: 0, failed: 0, skipped: 1 }));
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of g.UVU_QUEUE!) {
  group.shift();
  for (const run of group as SuiteRun[]) {
    const [errors, ran, skips, total] = await run();
    passed += ran;
    skipped += skips;
    failed += total - ran;
    if (errors !== true) process.stdout.write('\n' + errors + '\n');
  }
}
// Tests that skipped themselves at run time passed in uvu's count.
const dynamic = runtimeSkips().length;
passed -= dynamic;
skipped += dynamic;
// Without the corpus a file's failures are not findings: one absent corpus in a hook fails every
// test of its suite. They are skipped (failures again with HDC_REQUIRE_PEERS=1).
if (corpusMisses() > 0) {
  skipped += failed;
  failed = 0;
}
writeSync(3, JSON.stringify({ passed, failed, skipped }));
// A hook stopped halfway may have left peers listening: the file is done.
if (corpusMisses() > 0) process.exit(0);
