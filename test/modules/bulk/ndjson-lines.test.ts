// The ndjson splitter: lines across chunk boundaries, CRLF, blank lines, a line over the cap,
// exact byte offsets (what Range resumes from) and numbering from a resumed position.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { ndjsonLines, type Line } from '../../../modules/bulk/ndjson-lines.ts';

async function all(chunks: string[], opts: Parameters<typeof ndjsonLines>[1] = {}): Promise<Line[]> {
  const out: Line[] = [];
  for await (const lines of ndjsonLines(Readable.from(chunks.map((c) => Buffer.from(c))), opts)) out.push(...lines);
  return out;
}

test('lines split across chunks, with their byte offsets', async () => {
  const lines = await all(['{"a":1}\n{"b"', ':2}\n{"c":', '3}\n']);
  assert.equal(lines.map((l) => [l.n, l.text, l.end]), [[1, '{"a":1}', 8], [2, '{"b":2}', 16], [3, '{"c":3}', 24]]);
});

test('CRLF ends, blank lines skipped (not numbered), a last line without its newline', async () => {
  const lines = await all(['{"a":1}\r\n\n  \n{"b":2}']);
  assert.equal(lines.map((l) => [l.n, l.text]), [[1, '{"a":1}'], [2, '{"b":2}']]);
  assert.is(lines[1]!.end, 20);
});

test('multi-byte characters split between chunks stay whole', async () => {
  const bytes = Buffer.from('{"name":"Zoë"}\n');
  const lines: Line[] = [];
  for await (const l of ndjsonLines(Readable.from([bytes.subarray(0, 12), bytes.subarray(12)]))) lines.push(...l);
  assert.is(lines[0]!.text, '{"name":"Zoë"}');
  assert.is(lines[0]!.end, bytes.length);
});

test('a line longer than the cap is reported without its text and the next line is read', async () => {
  const long = 'x'.repeat(100);
  const lines = await all([`{"a":1}\n${long.slice(0, 50)}`, `${long.slice(50)}\n{"b":2}\n`], { maxLineBytes: 40 });
  assert.equal(lines.map((l) => [l.n, l.text]), [[1, '{"a":1}'], [2, undefined], [3, '{"b":2}']]);
  assert.is(lines[2]!.end, 8 + 101 + 8);
});

test('numbering and offsets continue from a resumed position', async () => {
  const lines = await all(['{"c":3}\n'], { startLine: 2, startByte: 16 });
  assert.equal(lines.map((l) => [l.n, l.end]), [[3, 24]]);
});

test.run();
