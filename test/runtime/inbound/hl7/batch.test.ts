import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, splitBatch } from '../../../../runtime/inbound/hl7/index.ts';

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
  assert.equal(r.messages, ['garbage\nmore\r']);
  assert.throws(() => parseMessage(r.messages[0]!), /MSH/);
});

test('with LF or CRLF breaks, a line that is not a segment continues the field before it', () => {
  const lab = `${A}\nOBX|1|TX|NOTE||first line\nsecond line\n\tindented: 5|x\nobx lower case\nOBX|2|NM|K||4.1\n`;
  for (const breaks of ['lf', 'any'] as const) {
    const r = splitBatch(lab, breaks);
    assert.equal(r.messages, [`${A}\rOBX|1|TX|NOTE||first line\nsecond line\n\tindented: 5|x\nobx lower case\rOBX|2|NM|K||4.1\r`], breaks);
    const m = parseMessage(r.messages[0]!);
    assert.equal(m.segmentNames(), ['MSH', 'OBX', 'OBX']);
    assert.is(m.get({ text: 'OBX-5', segment: 'OBX', field: 5 }), 'first line\nsecond line\n\tindented: 5');
    assert.is(m.get({ text: 'OBX-6', segment: 'OBX', field: 6 }), 'x\nobx lower case');
    assert.is(r.undeclared, undefined);
  }
  for (const breaks of ['crlf', 'lf', 'any'] as const) {
    const crlf = parseMessage(splitBatch(lab.replace(/\n/g, '\r\n'), breaks).messages[0]!);
    assert.equal(crlf.segmentNames(), ['MSH', 'OBX', 'OBX'], breaks);
    assert.is(crlf.invalidSegment, undefined, breaks);
    assert.is(crlf.get({ text: 'OBX-5', segment: 'OBX', field: 5 }), 'first line\nsecond line\n\tindented: 5', breaks);
  }
  // A control ID cut by a line break stays in MSH-10, where the listener sees it.
  const cut = parseMessage(splitBatch('MSH|^~\\&|S|F|R|RF|2024||ADT^A01|CTL\n0042|P|2.5\nPID|1\n', 'any').messages[0]!);
  assert.is(cut.header.controlId, 'CTL\n0042');
});

test('with cr, a line that is not a segment is kept as one so the parser locates it', () => {
  const m = parseMessage(splitBatch(`${A}\rfree text\rPID|1\r`, 'cr').messages[0]!);
  assert.equal(m.invalidSegment, { index: 1, line: 2, text: 'free text' });
});

test('line breaks the policy does not accept, where a segment starts, are reported', () => {
  const lf = `${A}\nEVN|A01\nPID|1\n`;
  const crlf = `${A}\r\nEVN|A01\r\nPID|1\r\n`;
  const cr = `${A}\rEVN|A01\rPID|1\r`;
  assert.equal(splitBatch(lf, 'cr').undeclared, { found: 'lf', line: 2, segment: 'EVN' });
  assert.equal(splitBatch(crlf, 'cr').undeclared, { found: 'crlf', line: 2, segment: 'EVN' });
  assert.equal(splitBatch(lf, 'crlf').undeclared, { found: 'lf', line: 2, segment: 'EVN' });
  assert.equal(splitBatch(cr, 'crlf').undeclared, { found: 'cr', line: 2, segment: 'EVN' });
  assert.equal(splitBatch(cr, 'lf').undeclared, { found: 'cr', line: 2, segment: 'EVN' });
  // Only a body whose segments are separated by such breaks alone: with CR breaks present, a bare
  // LF is inside a value, whatever follows it.
  assert.is(splitBatch(`${A}\rEVN|A01\nPID|1\r`, 'cr').undeclared, undefined);
  assert.is(splitBatch(`${A}\r\nEVN|A01\rPID|1\r\n`, 'crlf').undeclared, undefined);
  assert.equal(splitBatch(`${A}\rEVN|A01\r\nPID|1\r`, 'cr').undeclared, { found: 'crlf', line: 3, segment: 'PID' });
  assert.equal(splitBatch(`${A}\n`, 'cr').undeclared, undefined);
  assert.equal(splitBatch(`${A}\nPID|1`, 'cr').undeclared, { found: 'lf', line: 2, segment: 'PID' });
  for (const [body, breaks] of [[cr, 'cr'], [crlf, 'crlf'], [lf, 'lf'], [crlf, 'lf'], [lf, 'any'], [cr, 'any']] as const) {
    assert.is(splitBatch(body, breaks).undeclared, undefined, `${JSON.stringify(body.slice(-3))} ${breaks}`);
  }
  // A line feed inside a value that does not start a segment is not a break.
  assert.is(splitBatch(`${A}\rNTE|1||a\nb|c\nPID is here\r`, 'cr').undeclared, undefined);
});

test('BTS-1 and FTS-1 are checked against the messages present', () => {
  const good = ['FHS|^~\\&', 'BHS|^~\\&', A, B, 'BTS|2', 'BHS|^~\\&', A, 'BTS|1', 'FTS|2'].join('\r');
  assert.is(splitBatch(good, 'cr').batch?.countMismatches, undefined);
  const short = ['FHS|^~\\&', 'BHS|^~\\&', A, 'BTS|3', 'FTS|2'].join('\r');
  assert.equal(splitBatch(short, 'cr').batch?.countMismatches, [
    'BTS-1 (line 4) declares 3 messages, the batch holds 1',
    'FTS-1 (line 5) declares 2 batches, the file holds 1',
  ]);
  const noBhs = ['FHS|^~\\&', A, B, 'FTS|1'].join('\n');
  assert.equal(splitBatch(noBhs, 'lf').batch?.countMismatches, ['FTS-1 (line 4) declares 1 message, the file holds 2']);
  assert.is(splitBatch(['BHS|^~\\&', A, 'BTS'].join('\r'), 'cr').batch?.countMismatches, undefined);
});

test('a UTF-8 BOM is dropped', () => {
  assert.equal(splitBatch(`\ufeff${A}\r`, 'cr').messages, [`${A}\r`]);
});

test('CR-only bodies (cut without splitting into segments) split exactly as the general path does', () => {
  const big = ['BHS|^~\\&|S|F||||||||B9'];
  for (let i = 0; i < 2000; i++) big.push(`${A.replace('A1', `M${i}`)}\rPID|1||${i}\rOBX|1|ST|||x`);
  big.push('BTS|2000');
  const bodies = [
    `${A}\rPID|1\r`, `${A}\rPID|1`, `BHS|^~\\&|x\r${A}\rPID|\r${B}\r\rBTS|2\r`, `\r\r${A}\r \r${B}\rEVN|\r`,
    `PID|1\r${A}\r`, `${A}\r\rPID|2\r`, `FHS|^~\\&\rBHS|^~\\&|||||||||B\r${A}\rBTS|1\rFTS|1\r`, `${A}\r\t\r`, big.join('\r') + '\r',
  ];
  for (const body of bodies) {
    // The same body with LF breaks takes the general path (every line here starts a segment, so
    // no line continues a field under lf).
    assert.equal(splitBatch(body, 'cr'), splitBatch(body.replace(/\r/g, '\n'), 'lf'), JSON.stringify(body.slice(0, 60)));
    assert.equal(splitBatch(body, 'any'), splitBatch(body.replace(/\r/g, '\n'), 'lf'));
  }
  assert.is(splitBatch(big.join('\r'), 'cr').messages.length, 2000);
});

test.run();
