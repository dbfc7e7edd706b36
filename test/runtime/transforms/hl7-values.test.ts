// HL7 reads on transform values and the deterministic ids: what the plan's hl7 nodes give.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../../runtime/inbound/hl7/index.ts';
import { CompositeValue, MessageValue, er7, readHl7 } from '../../../runtime/transforms/hl7-values.ts';
import { deterministicUuid } from '../../../runtime/workflows/expr/functions.ts';

const msg = new MessageValue(parseMessage('MSH|^~\\&|A|B\rPID|1||P1^^^AUTH&1.2&ISO^MR~P2||DOE^JANE\\T\\CO\rOBR|1\rOBX|1|NM|a\rOBX|2|NM|b\rOBR|2\rOBX|3|NM|c'));

test('message reads: first occurrence, every occurrence, fields, repetitions and components', () => {
  assert.is(readHl7(msg, { from: 'message', segment: 'PID', field: 5, component: 2 }), 'JANE&CO');
  assert.equal(readHl7(msg, { from: 'message', segment: 'PID', field: 3, rep: '*', component: 1 }), ['P1', 'P2']);
  assert.equal(readHl7(msg, { from: 'message', segment: 'OBX', all: true, field: 3 }), ['a', 'b', 'c']);
  assert.is(readHl7(msg, { from: 'message', segment: 'PV1', field: 3 }), null);
});

test('structures: a repetition and a component stay whole, and read as ER7 text', () => {
  const cx = readHl7(msg, { from: 'message', segment: 'PID', field: 3, struct: true }) as CompositeValue;
  assert.ok(cx instanceof CompositeValue);
  assert.is(readHl7(cx, { from: 'composite', component: 4, subcomponent: 2 }), '1.2');
  const hd = readHl7(cx, { from: 'composite', component: 4, struct: true });
  assert.is(er7(hd), 'AUTH&1.2&ISO');
  assert.is(er7(cx), 'P1^^^AUTH&1.2&ISO^MR');
});

test('children: the OBX after an OBR, up to the next OBR', () => {
  const obrs = readHl7(msg, { from: 'message', segment: 'OBR', all: true }) as unknown[];
  const kids = readHl7(obrs[0], { from: 'segment', children: 'OBX' });
  assert.equal(readHl7(kids, { from: 'segment', field: 3 }), ['a', 'b']);
  assert.equal(readHl7(readHl7(obrs[1], { from: 'segment', children: 'OBX' }), { from: 'segment', field: 3 }), ['c']);
});

test('uuid: FHIR-Converter\'s ids (SHA-256, .NET Guid byte order)', () => {
  assert.is(deterministicUuid('Bundle_MSG00001'), '513a3d06-5e87-6fbc-ad1b-170ab430499f');
  assert.is(deterministicUuid('Patient_PATID1234,test1&2.16.1&HCD'), '9e909e52-61a1-be50-1878-a12ef8c36346');
});

test.run();
