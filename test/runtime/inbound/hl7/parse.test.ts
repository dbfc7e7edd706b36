import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHl7Path } from '../../../../compiler/syntax/hl7-path.ts';
import { Hl7ParseError, parseMessage, serialize, unescapeHl7, escapeHl7, defaultDelimiters } from '../../../../runtime/inbound/hl7/index.ts';
import type { Hl7Message } from '../../../../runtime/inbound/hl7/index.ts';

const seg = (...lines: string[]) => lines.join('\r') + '\r';
const get = (m: Hl7Message, text: string) => {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(r.error);
  return m.get(r.path);
};
const MSH = 'MSH|^~\\&|SND|SFAC|RCV|RFAC|20240315103000||ADT^A01^ADT_A01|CTRL1|P^T|2.5.1|||AL|NE||8859/1';

test('header is read eagerly', () => {
  const m = parseMessage(seg(MSH, 'PID|1||123'));
  assert.equal(m.header.fieldSep, '|');
  assert.equal(m.header.encodingChars, '^~\\&');
  assert.equal(m.header.sendingApplication, 'SND');
  assert.equal(m.header.receivingFacility, 'RFAC');
  assert.equal(m.header.messageCode, 'ADT');
  assert.equal(m.header.triggerEvent, 'A01');
  assert.equal(m.header.messageStructure, 'ADT_A01');
  assert.equal(m.header.controlId, 'CTRL1');
  assert.equal(m.header.processingId, 'P');
  assert.equal(m.header.processingMode, 'T');
  assert.equal(m.header.version, '2.5.1');
  assert.equal(m.header.acceptAckType, 'AL');
  assert.equal(m.header.appAckType, 'NE');
  assert.equal(m.header.charset, '8859/1');
  assert.equal(m.segmentCount, 2);
});

test('MSH numbering: MSH-1 is the separator, MSH-2 the encoding characters', () => {
  const m = parseMessage(seg(MSH));
  assert.is(get(m, 'MSH-1'), '|');
  assert.is(get(m, 'MSH-2'), '^~\\&');
  assert.is(get(m, 'MSH-3'), 'SND');
  assert.is(get(m, 'MSH-9'), 'ADT');
  assert.is(get(m, 'MSH-9.3'), 'ADT_A01');
  assert.is(get(m, 'MSH-12'), '2.5.1');
});

test('escapes decode to text with the standard delimiters', () => {
  const m = parseMessage(seg(MSH, 'OBX|1|TX|||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f \\X0D0A\\ \\X41\\'));
  assert.is(get(m, 'OBX-5'), 'a|b^c&d~e\\f \r\n A');
});

test('formatting and highlighting sequences are kept as written', () => {
  const m = parseMessage(seg(MSH, 'NTE|1||line one\\.br\\line \\H\\two\\N\\ \\.sp2\\ \\C2842\\x \\Zlocal\\'));
  assert.is(get(m, 'NTE-3'), 'line one\\.br\\line \\H\\two\\N\\ \\.sp2\\ \\C2842\\x \\Zlocal\\');
});

test('a stray escape character is literal text', () => {
  const m = parseMessage(seg(MSH, 'NTE|1||C:\\temp\\file and \\ alone'));
  assert.is(get(m, 'NTE-3'), 'C:\\temp\\file and \\ alone');
});

test('\\Xhh\\ decodes UTF-8 bytes, and Latin-1 bytes when not UTF-8', () => {
  const m = parseMessage(seg(MSH, 'NTE|1||\\XC3A9\\|\\XE9\\'));
  assert.is(get(m, 'NTE-3'), 'é');
  assert.is(get(m, 'NTE-4'), 'é');
});

test('custom delimiters drive splitting and escapes', () => {
  const m = parseMessage(seg('MSH#:*!@#SND#F#R#RF#2024##ORU:R01#C9#P#2.3', 'OBX#1#ST#GLU:Glucose#1#a!F!b!S!c!T!d!R!e!E!f#mg@dl:x'));
  assert.equal(m.delimiters, { field: '#', component: ':', repetition: '*', escape: '!', subcomponent: '@' });
  assert.is(m.header.messageCode, 'ORU');
  assert.is(m.header.triggerEvent, 'R01');
  assert.is(get(m, 'OBX-3.2'), 'Glucose');
  assert.is(get(m, 'OBX-5'), 'a#b:c@d*e!f');
  assert.is(get(m, 'OBX-6.1.2'), 'dl');
  assert.is(get(m, 'MSH-2'), ':*!@');
});

test('the v2.7 truncation character is a fifth encoding character, \\P\\ its escape', () => {
  const m = parseMessage(seg('MSH|^~\\&#|S|F|R|RF|2024||ADT^A01^ADT_A01|1|P|2.7', 'NTE|1||cut her#|a\\P\\b'));
  assert.is(m.delimiters.truncation, '#');
  assert.is(get(m, 'MSH-2'), '^~\\&#');
  assert.is(get(m, 'NTE-3'), 'cut her#');
  assert.is(get(m, 'NTE-4'), 'a#b');
});

test('"" is an explicit null, distinct from an empty position in the tree', () => {
  const m = parseMessage(seg(MSH, 'PID|1||""||A^""^^C'));
  assert.is(get(m, 'PID-3'), null);
  assert.is(get(m, 'PID-4'), null);
  assert.is(get(m, 'PID-5.2'), null);
  assert.is(get(m, 'PID-5.3'), null);
  assert.is(get(m, 'PID-5.4'), 'C');
  const pid = m.toJSON().segments[1]!;
  assert.equal(pid.fields['3'], [[[null]]]);
  assert.equal(pid.fields['5'], [[['A'], [null], [''], ['C']]]);
  assert.not.ok('4' in pid.fields);
});

test('repetitions, components, subcomponents; first repetition by default', () => {
  const m = parseMessage(seg(MSH, 'PID|1||111^^^HOSP&1.2.3&ISO^MR~222^^^SSA^SS~~333'));
  assert.is(get(m, 'PID-3.1'), '111');
  assert.is(get(m, 'PID-3[2].1'), '222');
  assert.is(get(m, 'PID-3[9].1'), null);
  assert.equal(get(m, 'PID-3[*].1'), ['111', '222', null, '333']);
  assert.equal(get(m, 'PID-3[*].4.2'), ['1.2.3', null, null, null]);
  assert.is(get(m, 'PID-3.4'), 'HOSP');
  assert.is(get(m, 'PID-3.4.3'), 'ISO');
  assert.is(get(m, 'PID-3'), '111');
  assert.equal(m.repetitions(parseOk('PID-3[*]')).map((r) => r.value(5)), ['MR', 'SS', null, null]);
});

function parseOk(text: string) {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(r.error);
  return r.path;
}

test('values are values: a path that stops above its leaves reads the first one, decoded', () => {
  const m = parseMessage(seg(MSH, 'PID|1||A\\T\\1&X^^^H~B|\\S\\lead^x|EVERYMAN&&&&Aniston^ADAM^A^III^DR', 'OBX|1|CE|1^Code&Sub'));
  assert.is(get(m, 'PID-5'), 'EVERYMAN');
  assert.is(get(m, 'PID-5.1'), 'EVERYMAN');
  assert.is(get(m, 'PID-5.1.2'), null);
  assert.is(get(m, 'PID-5.1.5'), 'Aniston');
  assert.is(get(m, 'PID-5.2'), 'ADAM');
  assert.is(get(m, 'PID-3'), 'A&1');
  assert.is(get(m, 'PID-4'), '^lead');
  assert.equal(get(m, 'PID-3[*]'), ['A&1', 'B']);
  assert.is(get(m, 'OBX-3.2'), 'Code');
  assert.equal(m.repetitions(parseOk('PID-3[*]')).map((r) => r.value()), ['A&1', 'B']);
  assert.equal(m.repetitions(parseOk('PID-3[*]')).map((r) => r.value(1)), ['A&1', 'B']);
  assert.equal(m.repetitions(parseOk('PID-3[*]')).map((r) => r.raw(1)), ['A\\T\\1&X', 'B']);
  // No value read anywhere in the message holds an unescaped delimiter.
  for (const s of m.segments()) {
    for (let f = 1; f <= s.fieldCount; f++) {
      if (s.name === 'MSH' && f <= 2) continue;
      for (const p of [{ field: f }, { field: f, component: 1 }, { field: f, component: 2 }, { field: f, fieldRep: '*' as const }]) {
        const v = s.get(p);
        for (const x of Array.isArray(v) ? v : [v]) {
          if (x !== null && x !== 'A&1' && x !== '^lead') assert.not.match(x, /[|^~\\&]/, `${s.name}-${f}: ${x}`);
        }
      }
    }
  }
});

test('written() keeps "" and an empty position apart', () => {
  const m = parseMessage(seg(MSH, 'PID|1||""||^X|""^Y'));
  assert.is(m.written(parseOk('PID-3')), '""');
  assert.is(m.written(parseOk('PID-4')), '');
  assert.is(m.written(parseOk('PID-5')), '');
  assert.is(m.written(parseOk('PID-6')), '""');
  assert.is(m.written(parseOk('PID-40')), '');
  assert.is(m.written(parseOk('NK1-1')), undefined);
  assert.is(get(m, 'PID-3'), null);
  assert.is(get(m, 'PID-4'), null);
});

test('trailing empty positions mean nothing', () => {
  const m = parseMessage(seg(MSH, 'PID|1||123^^^||DOE^JOHN^^^|||||'));
  assert.is(get(m, 'PID-3'), '123');
  assert.is(get(m, 'PID-5'), 'DOE');
  assert.is(get(m, 'PID-5.7'), null);
  assert.is(get(m, 'PID-9'), null);
  assert.is(get(m, 'PID-40'), null);
  assert.is(get(m, 'PID-40[*]') instanceof Array, true);
  assert.equal(get(m, 'PID-40[*]'), []);
});

test('segment repetitions and Z segments', () => {
  const m = parseMessage(seg(MSH, 'OBX|1|NM|A||1', 'ZXY|custom^val|x', 'OBX|2|NM|B||2', 'OBX|3|NM|C||3'));
  assert.is(get(m, 'OBX-5'), '1');
  assert.is(get(m, 'OBX[2]-5'), '2');
  assert.is(get(m, 'OBX[4]-5'), null);
  assert.equal(get(m, 'OBX[*]-5'), ['1', '2', '3']);
  assert.equal(get(m, 'OBX[*]-3'), ['A', 'B', 'C']);
  assert.is(get(m, 'ZXY-1.2'), 'val');
  // A path without a field is a presence test: the segment ID, or null.
  assert.is(get(m, 'ZXY'), 'ZXY');
  assert.is(get(m, 'NTE'), null);
  assert.equal(get(m, 'OBX[*]'), ['OBX', 'OBX', 'OBX']);
  assert.is(get(m, 'NTE-1'), null);
  assert.equal(get(m, 'NTE[*]-1'), []);
  assert.equal(m.segments('OBX').map((s) => s.line), [2, 4, 5]);
});

test('both repetitions starred flatten in message order', () => {
  const m = parseMessage(seg(MSH, 'OBX|1||||a~b', 'OBX|2||||c', 'OBX|3||||'));
  assert.equal(get(m, 'OBX[*]-5[*]'), ['a', 'b', 'c']);
  assert.equal(get(m, 'OBX[*]-5'), ['a', 'c', null]);
});

test('a bare LF inside a field stays in the value', () => {
  const m = parseMessage(seg(MSH, 'NTE|1||first\nsecond', 'PID|1'));
  assert.is(get(m, 'NTE-3'), 'first\nsecond');
  assert.equal(m.segmentNames(), ['MSH', 'NTE', 'PID']);
});

test('serialize reproduces the text exactly, empty lines and missing final CR included', () => {
  for (const text of [seg(MSH, 'PID|1'), MSH + '\rPID|1', MSH + '\r\rPID|1\r\r', seg(MSH, 'NTE|1||x\ny')]) {
    assert.is(serialize(parseMessage(text)), text);
  }
});

test('segments without fields, odd names and a segment with only a name', () => {
  const m = parseMessage(seg(MSH, 'PV1', 'ZZ|1', 'LONGNAME|x'));
  assert.equal(m.segmentNames(), ['MSH', 'PV1', 'ZZ', 'LONGNAME']);
  assert.is(get(m, 'PV1-1'), null);
});

test('toJSON is the full decoded tree', () => {
  const m = parseMessage(seg('MSH|^~\\&|A||||||ADT^A01|1|P|2.5', 'PID|1||1^^^X\\T\\Y&Z~2'));
  const t = m.toJSON();
  assert.equal(t.segments[0]!.fields['1'], [[['|']]]);
  assert.equal(t.segments[0]!.fields['2'], [[['^~\\&']]]);
  assert.equal(t.segments[0]!.fields['9'], [[['ADT'], ['A01']]]);
  assert.equal(t.segments[1]!.fields['3'], [[['1'], [''], [''], ['X&Y', 'Z']], [['2']]]);
});

test('lazy: reading MSH and one field does not split the other segments', () => {
  const m = parseMessage(seg(MSH, 'PID|1||123', 'OBX|1', 'OBX|2'));
  get(m, 'PID-3');
  const cache = (m as unknown as { cache: unknown[] }).cache;
  assert.is(cache.filter(Boolean).length, 2);
});

const throwsAt = (text: string, line: number, column: number, re: RegExp) => {
  try {
    parseMessage(text);
  } catch (e) {
    assert.instance(e, Hl7ParseError);
    const err = e as Hl7ParseError;
    assert.match(err.message, re);
    assert.is(err.line, line);
    assert.is(err.column, column);
    return;
  }
  assert.unreachable(`parsed: ${JSON.stringify(text)}`);
};

test('text that is not HL7 throws a located Hl7ParseError', () => {
  throwsAt('', 1, 1, /empty/);
  throwsAt('hello world', 1, 1, /start with an MSH/);
  throwsAt('PID|1\rMSH|^~\\&', 1, 1, /start with an MSH/);
  throwsAt('FHS|^~\\&\rMSH|^~\\&|', 1, 1, /batch/);
  throwsAt('MSH|^~', 1, 7, /too short/);
  throwsAt('MSHA^~\\&|x', 1, 4, /MSH-1/);
  throwsAt('MSH|^~\\|x|y', 1, 5, /4 encoding characters/);
  throwsAt('MSH|^~\\&#$|x', 1, 5, /4 encoding characters/);
  throwsAt('MSH|^^\\&|x', 1, 6, /MSH-2: "\^"/);
  throwsAt('MSH|^~a&|x', 1, 7, /MSH-2: "a"/);
});

test('MSH-2 variants real senders write: the escape doubled, or missing', () => {
  const doubled = parseMessage(seg('MSH|^~\\\\&|S|F|R|RF|2024||ADT^A01|1|P|2.3', 'PID|1||1^^^X\\T\\Y&Z'));
  assert.equal(doubled.delimiters, { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' });
  assert.is(doubled.header.encodingChars, '^~\\&');
  assert.is(doubled.header.version, '2.3');
  assert.is(get(doubled, 'PID-3.4'), 'X&Y');
  assert.is(get(doubled, 'PID-3.4.2'), 'Z');
  assert.is(serialize(doubled), seg('MSH|^~\\\\&|S|F|R|RF|2024||ADT^A01|1|P|2.3', 'PID|1||1^^^X\\T\\Y&Z'));
  const doubled27 = parseMessage(seg('MSH|^~\\\\&#|S|F|R|RF|2024||ADT^A01|1|P|2.7'));
  assert.is(doubled27.delimiters.truncation, '#');
  assert.is(doubled27.header.encodingChars, '^~\\&#');
  const noEscape = parseMessage(seg('MSH|^~&|EPIC||||20191107134803||ORM^O01|23|T|2.3', 'PID|1||MRN_123^^^IDX&X^MR||C:\\dir\\F\\'));
  assert.equal(noEscape.delimiters, { field: '|', component: '^', repetition: '~', escape: '', subcomponent: '&' });
  assert.is(noEscape.header.encodingChars, '^~\\&');
  assert.is(noEscape.header.controlId, '23');
  assert.is(get(noEscape, 'PID-3.4.2'), 'X');
  assert.is(get(noEscape, 'PID-5'), 'C:\\dir\\F\\');
});

test('segment IDs are [A-Z][A-Z0-9]{2} followed by the field separator; the first bad one is kept', () => {
  const ok = parseMessage(seg(MSH, 'PID|1', 'ZX1|a', 'OBX', '  ', ''));
  assert.is(ok.invalidSegment, undefined);
  assert.equal(ok.segmentNames(), ['MSH', 'PID', 'ZX1', 'OBX']);
  for (const [line, name] of [['pid|1', 'pid'], ['PI|1', 'PI'], ['PIDX|1', 'PIDX'], ['1PD|1', '1PD'], ['free text line', 'free text line']] as const) {
    const m = parseMessage(seg(MSH, 'PID|1', line, 'OBX|1'));
    assert.equal(m.invalidSegment, { index: 2, line: 3, text: name.slice(0, 20) }, line);
    assert.is(m.segmentCount, 4);
  }
});

test('anything else parses without throwing', () => {
  for (const t of ['MSH|^~\\&', 'MSH|^~\\&|', 'MSH|^~\\&\r\r\r', 'MSH|^~\\&|||||||\rPID\r|\r^^^\r\\\\\\', 'MSH|^~\\&||\\X\\|\\XZZ\\|\\']) {
    const m = parseMessage(t);
    m.toJSON();
    for (const p of ['PID-1', 'MSH-3', 'MSH-4', 'MSH-5', 'MSH-9.2', 'PID[*]-3[*].1.1']) get(m, p);
  }
});

test('escapeHl7 round-trips through unescapeHl7', () => {
  const d = { ...defaultDelimiters, truncation: '#' };
  const s = 'a|b^c&d~e\\f#g\r\nh';
  assert.is(unescapeHl7(escapeHl7(s, d), d), s);
  assert.is(escapeHl7('a|b', defaultDelimiters), 'a\\F\\b');
});

test.run();
