// npm run bench:hl7-fhir -- [--pairs DIR] [--limit N] [--no-validate]
// Converts every HL7 v2 message of a folder of pairs (<TYPE>/<name>.hl7 + <name>.expected.json, as
// FHIR-Converter's functional tests lay them out) with the std library's entry transform <TYPE>,
// and compares each Bundle with the expected one semantically (bench/support/fhir-compare.ts).
// Also: how many of our Bundles and of the expected ones validate against FHIR R4, and the
// conversion rate against the baseline of parsing the same messages.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileConverter } from '../cli/commands/convert.ts';
import { convertMessage, normalizeMessageText } from '../runtime/transforms/convert-message.ts';
import { parseMessage } from '../runtime/inbound/hl7/index.ts';
import { validateFhirResource } from '../runtime/workflows/fhir-validation.ts';
import { compareBundles, type Comparison } from './support/fhir-compare.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string' }, limit: { type: 'string' }, 'no-validate': { type: 'boolean' }, verbose: { type: 'boolean' } } });
const root = resolve(values.pairs ?? new URL('../../shared/corpus/fhir-converter', import.meta.url).pathname);
if (!existsSync(root)) {
  console.error(`bench:hl7-fhir: no pairs folder ${root} (give one with --pairs DIR)`);
  process.exit(2);
}

interface Pair { type: string; name: string; hl7: string; expected: unknown }
const pairs: Pair[] = [];
for (const type of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
  for (const f of readdirSync(join(root, type)).filter((x) => x.endsWith('.hl7')).sort()) {
    const name = f.slice(0, -4);
    const exp = join(root, type, `${name}.expected.json`);
    if (!existsSync(exp)) continue;
    pairs.push({ type, name, hl7: readFileSync(join(root, type, f), 'utf8'), expected: JSON.parse(readFileSync(exp, 'utf8')) });
  }
}
if (values.limit) pairs.splice(Number(values.limit));

const { runner, errors } = compileConverter([]);
if (!runner) {
  console.error(errors);
  process.exit(1);
}

const byType = new Map<string, { pairs: number; failed: number; c: Comparison[] }>();
const resourceTypes: Record<string, { expected: number; matched: number; expectedLeaves: number; agreeingLeaves: number }> = {};
const outputs: unknown[] = [];
let failed = 0;
const t0 = performance.now();
for (const p of pairs) {
  const row = byType.get(p.type) ?? { pairs: 0, failed: 0, c: [] };
  byType.set(p.type, row);
  row.pairs++;
  let actual: unknown = { resourceType: 'Bundle', type: 'batch' };
  try {
    actual = convertMessage(p.hl7, runner, { transform: `std.${p.type}` }).value;
  } catch (e) {
    failed++; row.failed++;
    console.error(`${p.type}/${p.name}: ${(e as Error).message}`);
  }
  outputs.push(actual);
  const c = compareBundles(p.expected, actual);
  row.c.push(c);
  for (const [t, x] of Object.entries(c.byType)) {
    const r = (resourceTypes[t] ??= { expected: 0, matched: 0, expectedLeaves: 0, agreeingLeaves: 0 });
    r.expected += x.expected; r.matched += x.matched; r.expectedLeaves += x.expectedLeaves; r.agreeingLeaves += x.agreeingLeaves;
  }
  if (values.verbose) console.log(`${p.type}/${p.name}: leaves ${c.agreeingLeaves}/${c.expectedLeaves}, resources ${c.matchedResources}/${c.expectedResources}`);
}
const convertMs = performance.now() - t0;

// Throughput: conversion against the baseline of parsing alone, both over every message, 3 rounds.
const texts = pairs.map((p) => normalizeMessageText(p.hl7));
const rate = (f: (t: string, i: number) => void): number => {
  const rounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    texts.forEach(f);
    rounds.push(texts.length / ((performance.now() - s) / 1000));
  }
  return rounds.sort((a, b) => a - b)[1]!;
};
const parseRate = rate((t) => { parseMessage(t); });
const convertRate = rate((t, i) => { try { convertMessage(t, runner, { transform: `std.${pairs[i]!.type}` }); } catch { /* counted above */ } });

let oursValid = 0;
let expectedValid = 0;
const problemsSeen = new Map<string, number>();
if (!values['no-validate']) {
  for (let i = 0; i < pairs.length; i++) {
    const ours = await validateFhirResource(outputs[i] as Record<string, unknown>);
    if (ours.length === 0) oursValid++;
    for (const p of ours.slice(0, 3)) problemsSeen.set(`${p.expression.replace(/\[\d+\]/g, '[]')}: ${p.text}`, (problemsSeen.get(`${p.expression.replace(/\[\d+\]/g, '[]')}: ${p.text}`) ?? 0) + 1);
    if ((await validateFhirResource(pairs[i]!.expected as Record<string, unknown>)).length === 0) expectedValid++;
  }
}

const sum = (xs: Comparison[], k: keyof Comparison) => xs.reduce((a, c) => a + (c[k] as number), 0);
const all = [...byType.values()].flatMap((r) => r.c);
const ratio = (a: number, b: number) => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);

console.log('\n| message type | pairs | resources matched | leaf recall | leaf precision |');
console.log('|---|---|---|---|---|');
for (const [type, row] of byType) {
  console.log(`| ${type} | ${row.pairs}${row.failed ? ` (${row.failed} failed)` : ''} | ${sum(row.c, 'matchedResources')}/${sum(row.c, 'expectedResources')} | ${ratio(sum(row.c, 'agreeingLeaves'), sum(row.c, 'expectedLeaves')).toFixed(3)} | ${ratio(sum(row.c, 'agreeingLeaves'), sum(row.c, 'actualLeaves')).toFixed(3)} |`);
}
console.log('\n| resource type | matched | leaf recall |');
console.log('|---|---|---|');
for (const [t, r] of Object.entries(resourceTypes).sort((a, b) => b[1].expected - a[1].expected)) {
  console.log(`| ${t} | ${r.matched}/${r.expected} | ${ratio(r.agreeingLeaves, r.expectedLeaves).toFixed(3)} |`);
}
if (problemsSeen.size) {
  console.log('\nmost frequent R4 problems in our bundles:');
  for (const [p, n] of [...problemsSeen].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n}× ${p}`);
}
console.log(`\nconverted ${pairs.length} messages in ${Math.round(convertMs)} ms (first pass, compile excluded); parse alone ${Math.round(parseRate)} msg/s`);

const result = {
  bench: 'hl7-fhir',
  pairs: pairs.length,
  failed,
  leafRecall: ratio(sum(all, 'agreeingLeaves'), sum(all, 'expectedLeaves')),
  leafPrecision: ratio(sum(all, 'agreeingLeaves'), sum(all, 'actualLeaves')),
  resourceRecall: ratio(sum(all, 'matchedResources'), sum(all, 'expectedResources')),
  r4Valid: values['no-validate'] ? null : ratio(oursValid, pairs.length),
  expectedR4Valid: values['no-validate'] ? null : ratio(expectedValid, pairs.length),
  msgPerSec: Math.round(convertRate),
  parseMsgPerSec: Math.round(parseRate),
};
const line = JSON.stringify(result);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/hl7-fhir.json', import.meta.url), line + '\n');
console.log(line);
