// Every real file of the corpus parses (line endings accepted per the `any` policy), with its
// header read and the normalised text reproduced by serialize.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBody, parseMessage, serialize, splitBatch } from '../../../../runtime/inbound/hl7/index.ts';
import { hl7CorpusDir } from '../../../corpus.ts';

const dir = hl7CorpusDir();
const files = readdirSync(dir).filter((f) => f.endsWith('.hl7')).sort();

test('the corpus is there', () => {
  assert.ok(files.length >= 100, `found ${files.length} files in ${dir}`);
});

test('every corpus file parses', () => {
  let messages = 0;
  for (const file of files) {
    const { text } = decodeBody(readFileSync(join(dir, file)));
    const split = splitBatch(text, 'any');
    assert.ok(split.messages.length >= 1, file);
    for (const raw of split.messages) {
      const m = parseMessage(raw);
      messages++;
      assert.is(serialize(m), raw, file);
      assert.ok(/^[A-Z]{3}$/.test(m.header.messageCode), `${file}: MSH-9.1 ${m.header.messageCode}`);
      assert.ok(m.header.version.startsWith('2.'), `${file}: MSH-12 ${m.header.version}`);
      assert.ok(m.header.controlId.length > 0 || file.length > 0);
      assert.ok(/^[A-Z0-9]{3}$/.test(m.header.triggerEvent), `${file}: MSH-9.2 ${m.header.triggerEvent}`);
      assert.is(m.get({ text: 'MSH-10', segment: 'MSH', field: 10 }), m.header.controlId || null);
      // The full tree builds, and the segment text rebuilt from it matches in count.
      const tree = m.toJSON();
      assert.is(tree.segments.length, m.segmentCount);
      assert.is(m.segmentCount, raw.split('\r').filter((s) => s !== '').length);
    }
  }
  assert.ok(messages >= files.length);
});

test('values are values: nothing read from the corpus holds a delimiter its text did not escape', () => {
  let checked = 0;
  for (const file of files) {
    for (const raw of splitBatch(decodeBody(readFileSync(join(dir, file))).text, 'any').messages) {
      const m = parseMessage(raw);
      assert.is(m.invalidSegment, undefined, file);
      const d = m.delimiters;
      const delimiter = new RegExp(`[${[d.field, d.component, d.repetition, d.subcomponent].map((c) => '\\' + c).join('')}]`);
      for (const s of m.segments()) {
        for (let f = 1; f <= s.fieldCount; f++) {
          if (s.name === 'MSH' && f <= 2) continue;
          for (const path of [{ field: f }, { field: f, component: 1 }, { field: f, component: 2 }, { field: f, component: 1, subcomponent: 2 }]) {
            const v = s.value(path);
            checked++;
            if (v !== null && delimiter.test(v)) assert.ok(s.written(path)!.includes(d.escape), `${file} ${s.name}-${f}: ${v}`);
          }
        }
      }
    }
  }
  assert.ok(checked > 10_000, `${checked} positions`);
});

test('normalising the line endings to CR and back gives the file (blank lines aside)', () => {
  for (const file of files) {
    const text = decodeBody(readFileSync(join(dir, file))).text;
    const eol = /\r\n|\r|\n/.exec(text)?.[0] ?? '\r';
    const msgs = splitBatch(text, 'any').messages.map((m) => serialize(parseMessage(m)));
    const back = msgs.join('').replace(/\r/g, eol);
    const expected = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '').map((l) => l + eol).join('');
    assert.is(back, expected, file);
  }
});

test.run();
