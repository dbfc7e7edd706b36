// `hdc parse` through the real executable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hl7CorpusDir } from '../../../corpus.ts';

const root = new URL('../../../../', import.meta.url).pathname;
const corpus = hl7CorpusDir();
const dir = mkdtempSync(join(tmpdir(), 'hdc-parse-'));

function hdc(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/hdc.js'), 'parse', ...args], {
    cwd: root, env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--get prints PATH<TAB>JSON, lists for * paths', () => {
  const r = hdc(join(corpus, 'ADT-A01-01.hl7'), '--get', 'PID-5.1.1', '--get', 'PID-3[*].1', '--get', 'MSH-9.2', '--get', 'ZZZ-1');
  assert.is(r.code, 0, r.err);
  assert.is(r.out, 'PID-5.1.1\t"EVERYMAN"\nPID-3[*].1\t["PATID1234","123456789"]\nMSH-9.2\t"A01"\nZZZ-1\t\n');
});

test('--get prints values, never ER7: the first leaf, "" as null, nothing when empty or absent', () => {
  const file = join(dir, 'values.hl7');
  writeFileSync(file, 'MSH|^~\\&|A|B|C|D|2024||ADT^A01^ADT_A01|1|P|2.5\rPID|1||123^^^H\\T\\S&1.2&ISO^MR||EVERYMAN&&&&Aniston^ADAM||""|||^X\r');
  const r = hdc(file, '--get', 'PID-5', '--get', 'PID-5.1', '--get', 'PID-5.1.5', '--get', 'PID-3.4', '--get', 'MSH-9',
    '--get', 'PID-7', '--get', 'PID-8', '--get', 'PID-10', '--get', 'PID-10.2', '--get', 'PID', '--get', 'NK1');
  assert.is(r.code, 0, r.err);
  assert.is(r.out, [
    'PID-5\t"EVERYMAN"', 'PID-5.1\t"EVERYMAN"', 'PID-5.1.5\t"Aniston"', 'PID-3.4\t"H&S"', 'MSH-9\t"ADT"',
    'PID-7\tnull', 'PID-8\t', 'PID-10\t', 'PID-10.2\t"X"', 'PID\t"PID"', 'NK1\t', '',
  ].join('\n'));
});

test('what the listener refuses is an error here too, located, and still printed', () => {
  const lf = join(dir, 'lf.hl7');
  writeFileSync(lf, 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\nEVN|A01\nPID|1||42\n');
  const cr = hdc(lf, '--breaks', 'cr', '--get', 'PID-3');
  assert.is(cr.code, 1);
  assert.is(cr.out, 'PID-3\t"42"\n');
  assert.is(cr.err.trim(), `${lf}:2:1: error: segments are separated by LF (line 2, before EVN), but --breaks cr accepts CR only`);
  assert.is(hdc(lf, '--get', 'PID-3').code, 0);
  const bad = join(dir, 'bad-segment.hl7');
  writeFileSync(bad, 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rPID|1\rpv1|1\r');
  const b = hdc(bad, '--get', 'PID-1', '--breaks', 'cr');
  assert.is(b.code, 1);
  assert.is(b.err.trim(), `${bad}:3:1: error: line 3 is not a segment: "pv1" does not start with a segment ID (A-Z, then two of A-Z or 0-9) and the field separator`);
  const joined = join(dir, 'joined.hl7');
  writeFileSync(joined, 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5 EVN|A01|2024 PID|1||42\r');
  assert.match(hdc(joined).err, `${joined}:1:1: error: MSH-12 ("2.5 EVN") holds the start of a EVN segment`);
});

test('without --get, each message is its full JSON tree', () => {
  const r = hdc(join(corpus, 'ADT-A01-01.hl7'));
  assert.is(r.code, 0, r.err);
  const tree = JSON.parse(r.out);
  assert.is(tree.segments[0].name, 'MSH');
  assert.equal(tree.segments[0].fields['9'], [[['ADT'], ['A01'], ['ADT_A01']]]);
  assert.equal(tree.delimiters.component, '^');
});

test('batches are split; escapes are decoded; "" is null', () => {
  const file = join(dir, 'batch.hl7');
  writeFileSync(file, [
    'FHS|^~\\&', 'BHS|^~\\&',
    'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5', 'PID|1||""||O\\T\\BRIEN^PAT',
    'MSH|^~\\&|A|B|C|D|2024||ADT^A08|2|P|2.5', 'PID|1||9||SMITH',
    'BTS|2', 'FTS|1', '',
  ].join('\n'));
  const r = hdc(file, '--get', 'MSH-10', '--get', 'PID-3', '--get', 'PID-5.1', '--breaks', 'lf');
  assert.is(r.code, 0, r.err);
  assert.is(r.out, 'MSH-10\t"1"\nPID-3\tnull\nPID-5.1\t"O&BRIEN"\n\nMSH-10\t"2"\nPID-3\t"9"\nPID-5.1\t"SMITH"\n');
});

test('a broken message exits 1 with FILE:LINE:COL, the others still print', () => {
  const file = join(dir, 'broken.hl7');
  writeFileSync(file, 'MSH|^~\\&|A||||||ADT^A01|1|P|2.5\r\nPID|1\r\n\r\nMSH|^^\\&|x\r\n');
  const r = hdc(file, '--get', 'MSH-10');
  assert.is(r.code, 1);
  assert.is(r.out, 'MSH-10\t"1"\n');
  assert.is(r.err.trim(), `${file}:4:6: error: MSH-2: "^" cannot be an encoding character here`);
  const g = hdc(join(dir, 'missing.hl7'));
  assert.is(g.code, 1);
  const notHl7 = join(dir, 'text.txt');
  writeFileSync(notHl7, 'hello\n');
  assert.match(hdc(notHl7).err, `${notHl7}:1:1: error: expected the message to start with an MSH segment`);
});

test('usage errors exit 2', () => {
  const r = hdc(join(corpus, 'ADT-A01-01.hl7'), '--get', 'PID-x');
  assert.is(r.code, 2);
  assert.match(r.err, /--get PID-x: column 5/);
  assert.is(hdc(join(corpus, 'ADT-A01-01.hl7'), '--breaks', 'crcr').code, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
