import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ackCodeFor, ackModeFor, ackWanted, buildAck, hl7Timestamp, isAck, newControlId, parseMessage } from '../../../../runtime/inbound/hl7/index.ts';
import type { AckOutcome } from '../../../../runtime/inbound/hl7/index.ts';

const inbound = (version: string, extra = '', enc = '^~\\&', fs = '|') =>
  parseMessage(
    [`MSH${fs}${enc}${fs}LAB${fs}LABFAC^1.2.3^ISO${fs}HDC${fs}HOSP${fs}20240315103000${fs}${fs}ORU^R01^ORU_R01${fs}MSG-42${fs}P^T${fs}${version}${extra}`, 'PID|1'].join('\r') + '\r',
  ).header;
const now = new Date(Date.UTC(2024, 2, 15, 10, 30, 0, 5));
const ack = (version: string, outcome: AckOutcome, extra = '') => {
  const text = buildAck(inbound(version, extra), outcome, { controlId: 'ACK1', now });
  assert.ok(text.endsWith('\r'));
  assert.not.match(text, '\n');
  const m = parseMessage(text);
  return { text, m, seg: (name: string) => m.segments(name)[0]?.raw };
};

test('MSH swaps sender and receiver, copies MSH-11/12, sets its own id and time', () => {
  const { m } = ack('2.5.1', { code: 'AA' });
  const h = m.header;
  assert.is(h.sendingApplication, 'HDC');
  assert.is(h.sendingFacility, 'HOSP');
  assert.is(h.receivingApplication, 'LAB');
  assert.is(h.receivingFacility, 'LABFAC^1.2.3^ISO');
  assert.is(h.processingId, 'P');
  assert.is(h.processingMode, 'T');
  assert.is(h.version, '2.5.1');
  assert.is(h.controlId, 'ACK1');
  assert.is(h.timestamp, hl7Timestamp(now));
  assert.match(h.timestamp, /^\d{14}\.\d{3}[+-]\d{4}$/);
  assert.ok(isAck(h));
});

test('MSH-9 by version: ACK before 2.3, ACK^trigger in 2.3/2.3.1, ACK^trigger^ACK from 2.4', () => {
  assert.is(ack('2.1', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK');
  assert.is(ack('2.2', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK');
  assert.is(ack('2.3', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK^R01');
  assert.is(ack('2.3.1', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK^R01');
  assert.is(ack('2.4', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK^R01^ACK');
  assert.is(ack('2.7', { code: 'AA' }).m.segments('MSH')[0]!.fieldText(9), 'ACK^R01^ACK');
});

test('MSA echoes the inbound control id; AA has no ERR', () => {
  const { seg, m } = ack('2.5', { code: 'AA' });
  assert.is(seg('MSA'), 'MSA|AA|MSG-42');
  assert.is(m.segmentCount, 2);
});

test('2.3 AE: MSA-3 text and ERR-1 seg^seq^field^code&text&HL70357', () => {
  const { seg } = ack('2.3', {
    code: 'AE',
    text: 'PID-3 missing',
    error: { code: 101, location: { segment: 'PID', sequence: 1, field: 3 } },
  });
  assert.is(seg('MSA'), 'MSA|AE|MSG-42|PID-3 missing');
  assert.is(seg('ERR'), 'ERR|PID^1^3^101&Required field missing&HL70357');
});

test('2.4 AR: ERR-1 without a location', () => {
  const { seg } = ack('2.4', { code: 'AR', error: { code: 200, text: 'ORU not accepted' } });
  assert.is(seg('MSA'), 'MSA|AR|MSG-42|ORU not accepted');
  assert.is(seg('ERR'), 'ERR|^^^200&ORU not accepted&HL70357');
});

test('2.5 AE: ERR-2 location, ERR-3 code^text^HL70357, ERR-4 severity, text in ERR-8', () => {
  const { seg } = ack('2.5', {
    code: 'AE',
    text: 'no MRN',
    error: { code: 101, location: { segment: 'PID', sequence: 1, field: 3, repetition: 1, component: 1 } },
  });
  assert.is(seg('MSA'), 'MSA|AE|MSG-42');
  assert.is(seg('ERR'), 'ERR||PID^1^3^1^1|101^Required field missing^HL70357|E||||no MRN');
});

test('2.7 AR without an error detail gets 207 and severity E; W is kept', () => {
  assert.is(ack('2.7', { code: 'AR' }).seg('ERR'), 'ERR|||207^Application internal error^HL70357|E');
  assert.is(ack('2.7', { code: 'AE', error: { code: 102, severity: 'W' } }).seg('ERR'), 'ERR|||102^Data type error^HL70357|W');
});

test('text is escaped with the inbound delimiters, custom ones included', () => {
  const { seg } = ack('2.5', { code: 'AE', text: 'a|b^c&d~e\\f', error: { code: 207, text: 'x^y' } });
  assert.is(seg('ERR'), 'ERR|||207^x\\S\\y^HL70357|E||||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
  const h = inbound('2.3', '', ':*!@', '#');
  const text = buildAck(h, { code: 'AE', text: 'a#b:c', error: { code: 101 } }, { controlId: 'X' });
  const lines = text.split('\r');
  assert.ok(lines[0]!.startsWith('MSH#:*!@#HDC#HOSP#LAB#LABFAC^1.2.3^ISO#'));
  assert.is(lines[1], 'MSA#AE#MSG-42#a!F!b!S!c');
  assert.is(lines[2], 'ERR#:::101@Required field missing@HL70357');
});

test('an empty inbound control id gives an empty MSA-2', () => {
  const h = parseMessage('MSH|^~\\&|A|B|C|D|2024||ADT^A01|||2.5\r').header;
  assert.is(buildAck(h, { code: 'AA' }).split('\r')[1], 'MSA|AA|');
});

test('MSH-18 is copied so the sender decodes the ACK as it encoded the message', () => {
  const { m } = ack('2.5', { code: 'AA' }, '||||||8859/1');
  assert.is(m.header.charset, '8859/1');
});

test('modes and codes: original (MSH-15/16 empty) and enhanced (AL/NE/ER/SU)', () => {
  const orig = inbound('2.5');
  assert.equal(ackModeFor(orig), { mode: 'original' });
  assert.is(ackCodeFor(orig, 'accepted'), 'AA');
  assert.is(ackCodeFor(orig, 'error'), 'AE');
  assert.is(ackCodeFor(orig, 'rejected'), 'AR');
  for (const c of ['AL', 'NE', 'ER', 'SU'] as const) {
    const h = inbound('2.5', `|||${c}|AL`);
    assert.equal(ackModeFor(h), { mode: 'enhanced', commit: c, application: 'AL' });
    assert.is(ackCodeFor(h, 'accepted'), 'CA');
    assert.is(ackCodeFor(h, 'error'), 'CE');
    assert.is(ackCodeFor(h, 'rejected'), 'CR');
    assert.is(ackCodeFor(h, 'error', 'application'), 'AE');
  }
  const only16 = inbound('2.5', '||||NE');
  assert.equal(ackModeFor(only16), { mode: 'enhanced', application: 'NE' });
});

test('ackWanted follows AL/NE/ER/SU', () => {
  assert.ok(ackWanted(inbound('2.5'), true));
  assert.ok(ackWanted(inbound('2.5', '|||AL|NE'), false));
  assert.not.ok(ackWanted(inbound('2.5', '|||NE|AL'), true));
  assert.ok(ackWanted(inbound('2.5', '|||ER|AL'), false));
  assert.not.ok(ackWanted(inbound('2.5', '|||ER|AL'), true));
  assert.ok(ackWanted(inbound('2.5', '|||SU|AL'), true));
  assert.not.ok(ackWanted(inbound('2.5', '|||AL|NE'), true, 'application'));
});

test('enhanced-mode commit ACKs carry CA/CE/CR', () => {
  const h = inbound('2.5', '|||NE|NE');
  const text = buildAck(h, { code: ackCodeFor(h, 'rejected'), error: { code: 203 } });
  assert.match(text, '\rMSA|CR|MSG-42\rERR|||203^Unsupported version id^HL70357|E\r');
});

test('isAck', () => {
  assert.ok(isAck({ messageCode: 'ACK' }));
  assert.not.ok(isAck({ messageCode: 'ADT' }));
});

test('control ids are unique and at most 20 characters', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50000; i++) ids.add(newControlId());
  assert.is(ids.size, 50000);
  for (const id of [...ids].slice(-3)) assert.ok(id.length <= 20 && /^[A-Z0-9]+$/.test(id), id);
});

test.run();
