// `hdc parse` through the real executable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hl7CorpusDir } from '../../corpus.ts';

const root = new URL('../../../', import.meta.url).pathname;
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
  assert.is(r.out, 'PID-5.1.1\t"EVERYMAN"\nPID-3[*].1\t["PATID1234","123456789"]\nMSH-9.2\t"A01"\nZZZ-1\tnull\n');
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
