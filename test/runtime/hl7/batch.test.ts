import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, splitBatch } from '../../../runtime/hl7/index.ts';

const A = 'MSH|^~\\&|S|F|R|RF|2024||ADT^A01|A1|P|2.5';
const B = 'MSH|^~\\&|S|F|R|RF|2024||ADT^A08|B1|P|2.5';

test('a single message is normalised to CR-terminated segments', () => {
  assert.equal(splitBatch(`${A}\r\nPID|1\r\n`, 'any'), { messages: [`${A}\rPID|1\r`], lines: [1] });
  assert.equal(splitBatch(`${A}\nPID|1`, 'lf').messages, [`${A}\rPID|1\r`]);
  assert.equal(splitBatch(`${A}\rPID|1\r`, 'cr').messages, [`${A}\rPID|1\r`]);
});

test('with cr, a bare LF stays inside the field value', () => {
  const { messages } = splitBatch(`${A}\rNTE|1||one\ntwo\r`, 'cr');
  assert.equal(messages, [`${A}\rNTE|1||one\ntwo\r`]);
  assert.is(parseMessage(messages[0]!).segments('NTE')[0]!.value({ field: 3 }), 'one\ntwo');
});

test('with crlf, a bare LF or CR is not a break', () => {
  const { messages } = splitBatch(`${A}\r\nNTE|1||one\ntwo\r\nPID|1\r\n`, 'crlf');
  assert.equal(messages, [`${A}\rNTE|1||one\ntwo\rPID|1\r`]);
});

test('with lf, CRLF files leave a CR at the end of each segment', () => {
  const { messages } = splitBatch(`${A}\nPID|1\n`, 'lf');
  assert.equal(messages, [`${A}\rPID|1\r`]);
});

test('bare concatenations split at each MSH, blank lines ignored', () => {
  const r = splitBatch(`${A}\r\nPID|1\r\n\r\n${B}\r\nPID|2\r\n`, 'any');
  assert.equal(r.messages, [`${A}\rPID|1\r`, `${B}\rPID|2\r`]);
  assert.equal(r.lines, [1, 4]);
  assert.is(r.batch, undefined);
});

test('FHS/BHS batches: envelopes kept aside, counts read from BTS', () => {
  const text = ['FHS|^~\\&|S|F', 'BHS|^~\\&|S|F', A, 'PID|1', B, 'PID|2', 'BTS|2', 'FTS|1', ''].join('\r');
  const r = splitBatch(text, 'cr');
  assert.equal(r.messages, [`${A}\rPID|1\r`, `${B}\rPID|2\r`]);
  assert.equal(r.lines, [3, 5]);
  assert.equal(r.batch, { fhs: 'FHS|^~\\&|S|F', bhs: 'BHS|^~\\&|S|F', declaredCount: 2 });
});

test('a batch of several BHS groups sums the BTS counts', () => {
  const text = ['BHS|^~\\&', A, 'BTS|1', 'BHS|^~\\&', B, 'BTS|1'].join('\n');
  assert.equal(splitBatch(text, 'lf').batch?.declaredCount, 2);
});

test('a body that does not start with MSH is kept whole so the parser reports it', () => {
  const r = splitBatch('garbage\r\nmore\r\n', 'any');
  assert.equal(r.messages, ['garbage\rmore\r']);
  assert.throws(() => parseMessage(r.messages[0]!), /MSH/);
});

test('a UTF-8 BOM is dropped', () => {
  assert.equal(splitBatch(`\ufeff${A}\r`, 'cr').messages, [`${A}\r`]);
});

test('CR-only bodies (cut without splitting into segments) split exactly as the general path does', () => {
  const big = ['BHS|^~\\&|S|F||||||||B9'];
  for (let i = 0; i < 2000; i++) big.push(`${A.replace('A1', `M${i}`)}\rPID|1||${i}\rOBX|1|ST|||x`);
  big.push('BTS|2000');
  const bodies = [
    `${A}\rPID|1\r`, `${A}\rPID|1`, `BHS|^~\\&|x\r${A}\rPID\r${B}\r\rBTS|2\r`, `\r\r${A}\r \r${B}\rEVN\r`,
    `PID|1\r${A}\r`, `${A}\r\rPID|2\r`, `FHS|^~\\&\rBHS|^~\\&|||||||||B\r${A}\rBTS|1\rFTS|1\r`, `${A}\r\t\r`, big.join('\r') + '\r',
  ];
  for (const body of bodies) {
    // The same body with LF breaks takes the general path.
    assert.equal(splitBatch(body, 'cr'), splitBatch(body.replace(/\r/g, '\n'), 'lf'), JSON.stringify(body.slice(0, 60)));
    assert.equal(splitBatch(body, 'any'), splitBatch(body.replace(/\r/g, '\n'), 'lf'));
  }
  assert.is(splitBatch(big.join('\r'), 'cr').messages.length, 2000);
});

test.run();
