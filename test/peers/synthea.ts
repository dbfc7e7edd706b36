// The Synthea corpus (real FHIR R4 transaction bundles) used to seed the FHIR server.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { syntheaCorpusDir } from '../corpus.ts';

/**
 * All bundle files, hospital and practitioner bundles first so that the organisations and
 * practitioners exist before the patient bundles that mention them.
 */
export function syntheaBundleFiles(): string[] {
  const rank = (f: string) => (f.startsWith('hospital') ? 0 : f.startsWith('practitioner') ? 1 : 2);
  const dir = syntheaCorpusDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((f) => join(dir, f));
}

const parsed = new Map<string, string>();

/**
 * Reads a transaction bundle and turns every `POST Type` entry into `PUT Type/<id>`: the
 * resources keep their Synthea ids (so tests can name `Patient/<uuid>` directly), the
 * organisations repeated across bundles are stored once, and the `urn:uuid:` references are
 * still resolved by the transaction. The file text is cached per process.
 */
export function readSeedBundle(file: string): Bundle {
  let text = parsed.get(file);
  if (text === undefined) {
    text = readFileSync(file, 'utf8');
    parsed.set(file, text);
  }
  const bundle = JSON.parse(text) as Bundle;
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (r?.id && entry.request?.method === 'POST' && !entry.request.ifNoneExist) {
      entry.request = { method: 'PUT', url: `${r.resourceType}/${r.id}` };
    }
  }
  return bundle;
}

/** Patients of the corpus, for tests: Synthea id, MRN identifier and name. */
export interface SyntheaPatient {
  id: string;
  mrn: { system: string; value: string };
  family: string;
  given: string;
  file: string;
}

export function syntheaPatients(): SyntheaPatient[] {
  const out: SyntheaPatient[] = [];
  for (const file of syntheaBundleFiles()) {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    const p = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
    if (p?.resourceType !== 'Patient' || !p.id) continue;
    const mr = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'));
    out.push({
      id: p.id,
      mrn: { system: mr?.system ?? '', value: mr?.value ?? '' },
      family: p.name?.[0]?.family ?? '',
      given: p.name?.[0]?.given?.[0] ?? '',
      file,
    });
  }
  return out;
}
