import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBody, encodingFor, Hl7CharsetError, parseMessage, splitBatch } from '../../../../runtime/inbound/hl7/index.ts';

const msh = (charset: string) => `MSH|^~\\&|S|F|R|RF|2024||ADT^A01|1|P|2.5||||||${charset}\rPID|1||1||Müller^Zoë\r`;

test('UTF-8 by default', () => {
  const r = decodeBody(Buffer.from(msh(''), 'utf8'));
  assert.is(r.charset, 'utf-8');
  assert.match(r.text, 'Müller^Zoë');
});

test('ISO-8859-1 bytes with nothing declared fall back to Latin-1', () => {
  const r = decodeBody(Buffer.from(msh(''), 'latin1'));
  assert.is(r.charset, 'iso-8859-1');
  assert.match(r.text, 'Müller^Zoë');
});

test('MSH-18 8859/1 is honoured', () => {
  const r = decodeBody(Buffer.from(msh('8859/1'), 'latin1'));
  assert.is(r.charset, 'iso-8859-1');
  assert.match(r.text, 'Müller');
  const m = parseMessage(splitBatch(r.text, 'cr').messages[0]!);
  assert.is(m.header.charset, '8859/1');
});

test('MSH-18 UNICODE UTF-8 is honoured, and its first repetition wins', () => {
  assert.is(decodeBody(Buffer.from(msh('UNICODE UTF-8'), 'utf8')).charset, 'utf-8');
  assert.is(decodeBody(Buffer.from(msh('8859/1~UNICODE UTF-8'), 'latin1')).charset, 'iso-8859-1');
});

test('Content-Type charset wins over MSH-18', () => {
  const body = Buffer.from(msh('8859/1'), 'utf8');
  const r = decodeBody(body, { contentTypeCharset: 'utf-8' });
  assert.is(r.charset, 'utf-8');
  assert.match(r.text, 'Müller');
  // Declared Latin-1 in MSH-18 would have garbled the UTF-8 bytes.
  assert.match(decodeBody(body).text, 'MÃ¼ller');
});

test('the sender charset comes after Content-Type and before MSH-18', () => {
  const body = Buffer.from(msh('UNICODE UTF-8'), 'latin1');
  assert.match(decodeBody(body, { senderCharset: '8859/1' }).text, 'Müller');
  assert.is(decodeBody(body, { senderCharset: '8859/1', contentTypeCharset: 'utf-8' }).charset, 'utf-8');
});

test('other table 0211 sets decode through TextDecoder', () => {
  const greek = Buffer.concat([Buffer.from('MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||8859/7\rPID|1||1||', 'latin1'), Buffer.from([0xc1, 0xc2])]);
  assert.match(decodeBody(greek).text, 'ΑΒ');
});

test('names: HL7 table 0211 and IANA', () => {
  assert.is(encodingFor('8859/1'), 'latin1');
  assert.is(encodingFor('ASCII'), 'latin1');
  assert.is(encodingFor('ISO-8859-1'), 'latin1');
  assert.is(encodingFor('unicode utf-8'), 'utf8');
  assert.is(encodingFor('UTF-8'), 'utf8');
  assert.is(encodingFor('8859/15'), 'iso-8859-15');
  assert.is(encodingFor('windows-1252'), 'windows-1252');
  assert.is(encodingFor('KLINGON'), undefined);
});

test('an unknown charset is a clear error naming its source', () => {
  try {
    decodeBody(Buffer.from(msh('KLINGON')));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, Hl7CharsetError);
    assert.is((e as Hl7CharsetError).source, 'MSH-18');
    assert.match((e as Error).message, /unsupported character set "KLINGON"/);
  }
  assert.throws(() => decodeBody(Buffer.from(msh('')), { contentTypeCharset: 'nope' }), /content-type/);
});

test('custom field separator and a batch header before MSH', () => {
  const text = 'FHS#^~\\&\r\nMSH#^~\\&#S#F#R#RF#2024##ADT^A01#1#P#2.5######8859/1\r\n';
  assert.is(decodeBody(Buffer.from(text, 'latin1')).charset, 'iso-8859-1');
});

test('a UTF-8 BOM is removed', () => {
  const r = decodeBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(msh(''))]));
  assert.ok(r.text.startsWith('MSH'));
});

test.run();
