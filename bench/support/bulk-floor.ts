// The floor of bench/bulk.ts: the same export's files over HTTP, N at a time, each read with
// split2 + JSON.parse — what any Node program reading ndjson does at the least. Prints
// { resources, ms } (kick-off and manifest excluded from the time).
import { request } from 'node:http';
import split2 from 'split2';

const [baseUrl, types, concurrency] = process.argv.slice(2) as [string, string, string];

function get(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, string>; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ headers: res.headers as Record<string, string>, text }));
    }).on('error', reject).end();
  });
}

const kick = await get(`${baseUrl}/$export?_type=${types}`, { prefer: 'respond-async', accept: 'application/fhir+json' });
const manifest = JSON.parse((await get(kick.headers['content-location']!, { accept: 'application/json' })).text) as { output: Array<{ url: string }> };
const urls = manifest.output.map((o) => o.url);
let resources = 0;
let next = 0;
const started = performance.now();
const worker = async () => {
  while (next < urls.length) {
    const url = urls[next++]!;
    await new Promise<void>((resolve, reject) => {
      request(url, { headers: { accept: 'application/fhir+ndjson' } }, (res) => {
        res.pipe(split2()).on('data', (line: string) => {
          if (JSON.parse(line).resourceType) resources++;
        }).on('end', resolve).on('error', reject);
      }).on('error', reject).end();
    });
  }
};
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
console.log(JSON.stringify({ resources, ms: performance.now() - started }));
