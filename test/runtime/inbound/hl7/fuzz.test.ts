// Mutated messages: the parser throws nothing but Hl7ParseError, reading never throws, and an
// ACK built from whatever header was read parses back with MSA-2 echoing MSH-10.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAck, decodeBody, Hl7ParseError, parseMessage, splitBatch } from '../../../../runtime/inbound/hl7/index.ts';
import { mapFields } from '../../../../runtime/inbound/map-fields.ts';
import { parseHl7Path } from '../../../../compiler/syntax/hl7-path.ts';
import type { FieldMapping, Hl7Path } from '../../../../plan/plan.types.ts';
import { hl7CorpusDir } from '../../../corpus.ts';

const dir = hl7CorpusDir();
const seeds = readdirSync(dir).filter((f) => f.endsWith('.hl7')).sort().slice(0, 40)
  .flatMap((f) => splitBatch(decodeBody(readFileSync(join(dir, f))).text, 'any').messages);

let state = 12345;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
const ALPHABET = '|^~\\&#\r\n"XMSH0123456789AZ. ';
function mutate(text: string): string {
  let t = text;
  const n = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rand() * (t.length + 1));
    const c = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
    const kind = rand();
    if (kind < 0.4) t = t.slice(0, at) + c + t.slice(at);
    else if (kind < 0.7) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rand() * 20));
    else if (kind < 0.9) t = t.slice(0, at) + c + t.slice(at + 1);
    else t = t.slice(0, at); // truncated
  }
  return t;
}

const path = (text: string): Hl7Path => {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(r.error);
  return r.path;
};
const PATHS = ['MSH-1', 'MSH-2', 'MSH-9.2', 'PID-3[*].1', 'PID-5.1.1', 'OBX[*]-5[*]', 'PV1-3.4.2', 'ZZZ[2]-1', 'EVN'].map(path);
const FIELDS: FieldMapping[] = [
  { name: 'mrn', path: path('PID-3[*]'), where: { op: '==', args: [{ rel: [5] }, { lit: 'MR' }] }, select: [1], type: 'string', src: 'f:1:1-1:2' },
  { name: 'birth', path: path('PID-7'), as: 'date', type: 'date', src: 'f:1:1-1:2' },
  { name: 'obx', each: 'OBX', type: 'records', src: 'f:1:1-1:2', fields: [{ name: 'v', path: path('OBX-5'), as: 'number', type: 'number', src: 'f:1:1-1:2' }] },
];

test('thousands of mutated messages never crash the parser, readers or ACK builder', () => {
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 4000; i++) {
    const text = mutate(seeds[i % seeds.length]!);
    let m;
    try {
      m = parseMessage(text);
    } catch (e) {
      assert.instance(e, Hl7ParseError, `${String(e)} for ${JSON.stringify(text.slice(0, 80))}`);
      rejected++;
      continue;
    }
    parsed++;
    for (const p of PATHS) m.get(p);
    m.toJSON();
    mapFields(m, FIELDS);
    const ack = parseMessage(buildAck(m.header, { code: 'AE', text: 'x|y', error: { code: 102 } }));
    assert.is(ack.segments('MSA')[0]!.value({ field: 2 }), m.header.controlId || null);
  }
  assert.ok(parsed > 3000, `parsed ${parsed}`);
  assert.ok(rejected > 0, 'some mutations hit the MSH delimiters');
});

test.run();
