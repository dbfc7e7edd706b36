// The structure checks on their own: what real senders write passes, what is broken is located.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBody, parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { checkStructure, undeclaredBreakRefusal } from '../../../runtime/inbound/message-structure.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const MSH = 'MSH|^~\\&|APP|FAC|HDC|HOSP|20240101||ADT^A01^ADT_A01|C1|P|2.5.1';
const check = (...segments: string[]) => checkStructure(parseMessage(segments.join('\r') + '\r'));

test('every corpus message passes', () => {
  const dir = hl7CorpusDir();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.hl7'))) {
    for (const m of splitBatch(decodeBody(readFileSync(join(dir, f))).text, 'any').messages) {
      assert.is(checkStructure(parseMessage(m)), null, f);
    }
  }
});

test('what real senders add passes: trailing empty fields, country and language codes, names with spaces', () => {
  assert.is(check(MSH + '|'.repeat(40), 'PID|1'), null);
  assert.is(check(MSH + '||||||PRT||POR', 'PID|1'), null);
  assert.is(check('MSH|^~\\&|EPIC PROD|ST MARY OF THE LAKE|HDC|HOSP|20240101||ADT^A01|C1|P|2.3', 'PID|1'), null);
  assert.is(check('MSH|^~\\&|A|B|C|D|2024||ADT^A01|C1|P|2.3|||||||||||x', 'PID|1'), null);
});

test('a segment ID that is not one, an MSH that swallowed segments, a cut header field', () => {
  assert.equal(check(MSH, 'PID|1', 'Pv1|1')?.error, {
    code: 100, location: { segment: 'Pv1', sequence: 3 },
    text: 'line 3 is not a segment: "Pv1" does not start with a segment ID (A-Z, then two of A-Z or 0-9) and the field separator',
  });
  assert.equal(check(MSH + ' EVN|A01|2024', 'PID|1')?.error.location, { segment: 'MSH', sequence: 1, field: 12 });
  assert.equal(check(MSH + '|EVN|A01|2024', 'PID|1')?.error.location, { segment: 'MSH', sequence: 1, field: 13 });
  assert.equal(check('MSH|^~\\&|A|B|C|D|2024||ADT^A01|C1|P|2.3' + '|x'.repeat(12))?.error, {
    code: 100, location: { segment: 'MSH', sequence: 1, field: 20 },
    text: 'MSH has 24 fields where HL7 2.3 defines 19: other segments were joined to it (segment breaks lost?)',
  });
  assert.equal(check('MSH|^~\\&|A|B|C|D|2024||ADT^A01|C\n1|P|2.3')?.error.location, { segment: 'MSH', sequence: 1, field: 10 });
  assert.is(check('MSH|^~\\&|A|B|C|D|2024||ADT^A01|C1|P|2.3', 'NTE|1||line one\nline two')?.error, undefined);
});

test('undeclared breaks name what was found and what the sender accepts', () => {
  assert.equal(undeclaredBreakRefusal({ found: 'crlf', line: 2, segment: 'EVN' }, 'cr'), {
    result: 'rejected',
    error: {
      code: 100, location: { segment: 'EVN' },
      text: 'segments are separated by CRLF (line 2, before EVN), but this sender accepts CR only: send CR (the standard) or declare line_endings crlf (or any) for this sender',
    },
  });
});

test.run();
