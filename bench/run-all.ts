// npm run bench — every benchmark in turn (each in its own process, so none warms another),
// then one line per benchmark with its closing JSON. The soak test (30 minutes by default) runs
// only when named: `npm run bench -- soak`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2);
const ONLY_WHEN_NAMED = new Set(['soak']);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run-all.ts')
  .map((f) => f.slice(0, -3))
  .filter((n) => (only.length === 0 ? !ONLY_WHEN_NAMED.has(n) : only.includes(n)))
  .sort();

const results: string[] = [];
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench:${name}`);
  const r = spawnSync('npm', ['run', '-s', `bench:${name}`], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    failed++;
    results.push(JSON.stringify({ bench: name, error: `exit ${r.status}` }));
  } else results.push(last);
}
console.log('\n=== summary');
for (const line of results) console.log(line);
process.exit(failed ? 1 : 0);
