// Reads one of the generated dictionary tables, once per process.
import { existsSync, readFileSync } from 'node:fs';

const cache = new Map<string, unknown>();

// Sources run from compiler/dictionaries/; the tsc build runs from dist/compiler/dictionaries/,
// which does not copy JSON, so it reads the tables from the source tree beside it.
const locations = [new URL('./generated/', import.meta.url), new URL('../../../compiler/dictionaries/generated/', import.meta.url)];

export function readTable<T>(file: string): T {
  let table = cache.get(file);
  if (table === undefined) {
    const url = locations.map((dir) => new URL(file, dir)).find((u) => existsSync(u));
    if (!url) throw new Error(`dictionary table ${file} is missing: run npm run gen`);
    table = JSON.parse(readFileSync(url, 'utf8'));
    cache.set(file, table);
  }
  return table as T;
}
