// Every element path in real Synthea R4 bundles must resolve in the dictionary, and every
// resource type in them must be known.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fhir from '../../../compiler/dictionaries/fhir.ts';
import { syntheaCorpusDir } from '../../corpus.ts';

const dir = syntheaCorpusDir();

/** Leaf and object paths of a JSON resource, array indexes dropped, primitive extensions (`_x`) skipped. */
function paths(value: unknown, prefix: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) paths(v, prefix, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    out.add(path);
    // Contained resources and extensions are checked as their own types elsewhere.
    if (key === 'contained') continue;
    paths(v, path, out);
  }
}

test('Synthea bundles: resource types known, every element path resolves', () => {
  const byType = new Map<string, Set<string>>();
  let resources = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const bundle = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { resourceType: string; entry: { resource: { resourceType: string } }[] };
    assert.ok(fhir.isResourceType(bundle.resourceType));
    for (const { resource } of bundle.entry) {
      resources++;
      assert.ok(fhir.isResourceType(resource.resourceType), resource.resourceType);
      const set = byType.get(resource.resourceType) ?? new Set<string>();
      paths(resource, '', set);
      byType.set(resource.resourceType, set);
    }
  }
  assert.ok(resources > 1000, `${resources} resources`);
  assert.ok(byType.size >= 12, [...byType.keys()].join());
  const failures: string[] = [];
  let checked = 0;
  for (const [type, set] of byType) {
    for (const path of set) {
      checked++;
      const r = fhir.resolveElementPath(type, path);
      if (!r.ok) failures.push(`${type}.${path}: ${r.message}`);
    }
  }
  assert.ok(checked > 500, `${checked} paths`);
  assert.equal(failures, []);
});

test('Synthea: the search parameters a connector would use on these types exist', () => {
  for (const [type, code] of [
    ['Patient', 'identifier'], ['Encounter', 'patient'], ['Encounter', 'date'], ['Observation', 'code'],
    ['Observation', 'patient'], ['Condition', 'clinical-status'], ['Claim', 'patient'], ['Immunization', 'vaccine-code'],
    ['MedicationRequest', 'status'], ['Procedure', 'date'], ['ExplanationOfBenefit', 'patient'], ['CarePlan', 'category'],
  ] as const) {
    assert.ok(fhir.checkSearchParam(type, code).ok, `${type}?${code}`);
  }
});

test.run();
