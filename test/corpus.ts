// Where tests and benchmarks find the shared corpus of real data written by others (HL7 v2
// messages, Synthea FHIR bundles): HDC_CORPUS_DIR, or ../shared/corpus beside the repository.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The corpus is not part of the repository: where it is absent, a test that needs it stops with
 * this error and the test runner reports the file's failed tests as skipped (a failure with HDC_REQUIRE_PEERS=1, as in
 * .ci/run); benchmarks fail with the message.
 */
export class CorpusMissing extends Error {
  override name = 'CorpusMissing';
}

declare global {
  var __hdcCorpusMisses: number | undefined;
}

/** How many times this process asked for an absent corpus (test/harness/run-file.ts). */
export const corpusMisses = (): number => globalThis.__hdcCorpusMisses ?? 0;

export function corpusDir(sub: string): string {
  const base = process.env.HDC_CORPUS_DIR ?? fileURLToPath(new URL('../../shared/corpus/', import.meta.url));
  const dir = join(base, sub);
  if (!existsSync(dir)) {
    globalThis.__hdcCorpusMisses = corpusMisses() + 1;
    throw new CorpusMissing(`test corpus not found at ${dir}: put the shared corpus beside the repository (../shared/corpus) or set HDC_CORPUS_DIR`);
  }
  return dir;
}

/** 132 HL7 v2 messages (microsoft/FHIR-Converter sample data). */
export const hl7CorpusDir = (): string => corpusDir('hl7/fhir-converter');
/** Synthea FHIR R4 transaction bundles (smart-on-fhir/bulk-data-server). */
export const syntheaCorpusDir = (): string => corpusDir('fhir/synthea');
/** HL7 v2 messages with FHIR-Converter's expected Bundles: <TYPE>/<name>.hl7 + <name>.expected.json. */
export const fhirConverterPairsDir = (): string => corpusDir('fhir-converter');
