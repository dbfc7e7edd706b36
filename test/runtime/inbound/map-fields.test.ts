import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { decodeBody, parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { parseHl7Path } from '../../../compiler/syntax/hl7-path.ts';
import type { Expr, FieldMapping, Hl7Path } from '../../../plan/plan.types.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const p = (text: string): Hl7Path => {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(r.error);
  return r.path;
};
const field = (name: string, path: string, extra: Partial<FieldMapping> = {}): FieldMapping => ({
  name, path: p(path), type: 'any', src: 'test.hdc:1:1-1:2', ...extra,
});

const msg = parseMessage([
  'MSH|^~\\&|LAB|LABFAC|HDC|HOSP|20240315103000||ORU^R01^ORU_R01|CTRL9|P|2.5.1',
  'PID|1||111^^^OTHER^MR~222^^^ACME&1.2.3&ISO^MR~333^^^ACME^SS||DOE^JANE^Q||19800215|F',
  'OBR|1||ORD1|CBC^Blood count',
  'OBX|1|NM|GLU^Glucose^LN||5.4|mmol/L^^UCUM|||||F|||20240315101500+0100',
  'OBX|2|ST|NOTE^Comment||a \\T\\ b|||||||F',
  'OBX|3|NM|HGB^Hemoglobin^LN||""|g/dL|||||F',
  '',
].join('\r'));

const eq = (rel: number[], v: string): Expr => ({ op: '==', args: [{ rel }, { lit: v }] });

test('scalar paths read decoded values, a path above its leaves the first one; absent is null', () => {
  const out = mapFields(msg, [
    field('family', 'PID-5.1'),
    field('given', 'PID-5.2'),
    field('name', 'PID-5'),
    field('middle2', 'PID-5.9'),
    field('trigger', 'MSH-9.2'),
    field('nothing', 'ZZZ-1'),
    field('authority', 'PID-3[2].4'),
    field('type', 'MSH-9'),
    field('obr', 'OBR'),
    field('codes', 'OBX[*]-3'),
  ]);
  assert.equal(out, {
    family: 'DOE', given: 'JANE', name: 'DOE', middle2: null, trigger: 'R01', nothing: null,
    authority: 'ACME', type: 'ORU', obr: 'OBR', codes: ['GLU', 'NOTE', 'HGB'],
  });
});

test('conversions: date, datetime, number, string, raw', () => {
  const out = mapFields(msg, [
    field('birth', 'PID-7', { as: 'date', type: 'date' }),
    field('value', 'OBX-5', { as: 'number', type: 'number' }),
    field('observed', 'OBX-14', { as: 'datetime', type: 'datetime' }),
    field('note', 'OBX[2]-5', { as: 'string' }),
    field('noteRaw', 'OBX[2]-5', { as: 'raw' }),
    field('badNumber', 'OBX[2]-5', { as: 'number' }),
    field('nullRaw', 'OBX[3]-5', { as: 'raw' }),
    field('nullValue', 'OBX[3]-5'),
  ]);
  assert.equal(out, {
    birth: '1980-02-15', value: 5.4, observed: '2024-03-15T10:15:00+01:00', note: 'a & b', noteRaw: 'a \\T\\ b',
    badNumber: null, nullRaw: '""', nullValue: null,
  });
});

test('a path with * yields a list', () => {
  const out = mapFields(msg, [field('ids', 'PID-3[*].1'), field('values', 'OBX[*]-5'), field('codes', 'OBX[*]-3.1')]);
  assert.equal(out, { ids: ['111', '222', '333'], values: ['5.4', 'a & b', null], codes: ['GLU', 'NOTE', 'HGB'] });
});

test('where filters repetitions with rel, select picks the component', () => {
  const out = mapFields(msg, [
    field('acmeIds', 'PID-3[*]', { where: eq([4, 1], 'ACME'), select: [1] }),
    field('mrn', 'PID-3[*]', { where: { op: 'and', args: [eq([4, 1], 'ACME'), eq([5], 'MR')] }, select: [1], type: 'string' }),
    field('oid', 'PID-3[*]', { where: eq([4, 1], 'ACME'), select: [4, 2], type: 'string' }),
    field('none', 'PID-3[*]', { where: eq([4, 1], 'NOPE'), select: [1], type: 'string' }),
    field('noneList', 'PID-3[*]', { where: eq([4, 1], 'NOPE'), select: [1] }),
    field('pathComponent', 'PID-3[*].1', { where: eq([5], 'SS') }),
  ]);
  assert.equal(out, { acmeIds: ['222', '333'], mrn: '222', oid: '1.2.3', none: null, noneList: [], pathComponent: ['333'] });
});

test('where can read fields mapped before it', () => {
  const out = mapFields(msg, [
    field('authority', 'PID-3[3].4'),
    field('ids', 'PID-3[*]', { where: { op: '==', args: [{ rel: [4, 1] }, { ref: 'authority' }] }, select: [1] }),
  ]);
  assert.equal(out.ids, ['222', '333']);
});

test('each: one record per segment; paths on it read the current one, others the message', () => {
  const out = mapFields(msg, [{
    name: 'results', each: 'OBX', type: 'records', src: 't.hdc:1:1-1:2',
    fields: [
      field('code', 'OBX-3.1'),
      field('value', 'OBX-5'),
      field('unit', 'OBX-6.1'),
      field('order', 'OBR-2'),
      field('order3', 'OBR-3'),
      field('num', 'OBX-5', { as: 'number', type: 'number' }),
    ],
  }]);
  assert.equal(out.results, [
    { code: 'GLU', value: '5.4', unit: 'mmol/L', order: null, order3: 'ORD1', num: 5.4 },
    { code: 'NOTE', value: 'a & b', unit: null, order: null, order3: 'ORD1', num: null },
    { code: 'HGB', value: null, unit: 'g/dL', order: null, order3: 'ORD1', num: null },
  ]);
  assert.equal(mapFields(msg, [{ name: 'notes', each: 'NTE', type: 'records', src: 'x', fields: [field('t', 'NTE-3')] }]), { notes: [] });
});

test('works on a real corpus message', () => {
  const dir = hl7CorpusDir();
  const m = parseMessage(splitBatch(decodeBody(readFileSync(join(dir, 'ADT-A01-01.hl7'))).text, 'any').messages[0]!);
  const out = mapFields(m, [
    field('mrn', 'PID-3[*]', { where: eq([5], 'MR'), select: [1], type: 'string' }),
    field('ssn', 'PID-3[*]', { where: eq([4], 'USSSA'), select: [1], type: 'string' }),
    field('family', 'PID-5.1.1'),
    field('birth', 'PID-7', { as: 'datetime', type: 'datetime' }),
  ]);
  assert.equal(out, { mrn: 'PATID1234', ssn: '123456789', family: 'EVERYMAN', birth: '1988-08-18T11:26:00+02:15' });
});

test.run();
