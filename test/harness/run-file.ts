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
// Tests stopped by an absent corpus (CorpusMissing) failed in uvu's count.
const withoutCorpus = Math.min(failed, corpusMisses());
failed -= withoutCorpus;
skipped += withoutCorpus;
writeSync(3, JSON.stringify({ passed, failed, skipped }));
