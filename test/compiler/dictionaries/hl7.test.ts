import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as hl7 from '../../../compiler/dictionaries/hl7.ts';
import { hl7Path } from './hl7-path.ts';

const check = (version: string, text: string) => hl7.checkHl7Path(version, hl7Path(text));

test('versions: 2.1–2.7.1 have tables, 2.8 falls back to 2.7.1, others are unknown with the list', () => {
  assert.equal(hl7.resolveHl7Version('2.5.1'), { version: '2.5.1' });
  assert.equal(hl7.resolveHl7Version('2.8'), { version: '2.7.1', fallbackFrom: '2.8' });
  assert.is(hl7.resolveHl7Version('2.9'), undefined);
  assert.is(hl7.resolveHl7Version('3.0'), undefined);
  for (const v of ['2.1', '2.2', '2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1', '2.8']) assert.ok(hl7.HL7_VERSIONS.includes(v), v);
  const r = check('2.9', 'PID-5');
  assert.is(r.ok, false);
  if (!r.ok) {
    assert.is(r.part, 'version');
    assert.match(r.message, /unknown HL7 version "2\.9"/);
    assert.match(r.message, /2\.3\.1, 2\.4, 2\.5, 2\.5\.1/);
  }
  assert.equal(hl7.segment('2.9', 'PID'), undefined);
  assert.equal(hl7.segments('2.9'), []);
});

test('PID-5 is XPN, required and repeating in 2.5.1; PID-5.1 is FN', () => {
  const pid5 = hl7.field('2.5.1', 'PID', 5)!;
  assert.equal(
    { name: pid5.name, dataType: pid5.dataType, optionality: pid5.optionality, repeatable: pid5.repeatable, max: pid5.maxRepetitions },
    { name: 'Patient Name', dataType: 'XPN', optionality: 'R', repeatable: true, max: undefined },
  );
  const r = check('2.5.1', 'PID-5.1');
  assert.ok(r.ok);
  if (r.ok) {
    assert.is(r.field?.name, 'Patient Name');
    assert.is(r.component?.name, 'Family Name');
    assert.is(r.component?.dataType, 'FN');
  }
  const sub = check('2.5.1', 'PID-5.1.1');
  assert.ok(sub.ok && sub.subcomponent?.name === 'Surname' && sub.subcomponent.dataType === 'ST');
  assert.is(hl7.describeHl7Path('2.5.1', hl7Path('PID-5.1')), 'PID-5.1 Family Name (FN) — Patient Name (XPN), required, repeating');
  assert.is(hl7.describeHl7Path('2.5.1', hl7Path('PID-8')), 'PID-8 Administrative Sex (IS), optional, not repeating, table 0001');
  // In 2.3 the family name is a plain string component.
  const old = check('2.3', 'PID-5.1');
  assert.ok(old.ok && old.component?.dataType === 'ST');
});

test('segments, data types and fields are the version’s own', () => {
  const pid = hl7.segment('2.5.1', 'PID')!;
  assert.is(pid.description, 'Patient Identification');
  assert.is(pid.fields.length, 39);
  assert.is(hl7.segment('2.3', 'PID')!.fields.length, 30);
  assert.is(hl7.segment('2.5.1', 'PRT'), undefined); // participation arrives in 2.7
  assert.ok(hl7.segment('2.7.1', 'PRT'));
  const xpn = hl7.dataType('2.5.1', 'XPN')!;
  assert.is(xpn.components.length, 14);
  assert.equal(xpn.components.slice(0, 2).map((c) => [c.position, c.name, c.dataType]), [[1, 'Family Name', 'FN'], [2, 'Given Name', 'ST']]);
  assert.ok(hl7.dataType('2.5.1', 'ST')!.primitive);
  assert.ok(!hl7.dataType('2.5.1', 'XPN')!.primitive);
  const codes = hl7.segments('2.5.1').map((s) => s.code);
  assert.ok(codes.includes('MSH') && codes.includes('OBX') && codes.length > 100);
  assert.ok(!codes.includes('ED'), 'the data type ED listed as a 2.6 segment in the package is not a segment');
  assert.is(hl7.segments('2.6').some((s) => s.code === 'ED'), false);
});

test('MSH-9 has two components in 2.3 and three (with the message structure) from 2.3.1', () => {
  assert.equal(hl7.dataType('2.3', hl7.field('2.3', 'MSH', 9)!.dataType)!.components.map((c) => c.name), ['Message Type', 'Trigger Event']);
  assert.equal(hl7.dataType('2.5', hl7.field('2.5', 'MSH', 9)!.dataType)!.components.map((c) => c.name), ['Message Code', 'Trigger Event', 'Message Structure']);
  const r23 = check('2.3', 'MSH-9.3');
  assert.is(r23.ok, false);
  if (!r23.ok) {
    assert.is(r23.part, 'component');
    assert.is(r23.warning, undefined);
    assert.match(r23.message, /has 2 components/);
    assert.equal(r23.replacements, ['MSH-9.1', 'MSH-9.2']);
  }
  const r25 = check('2.5', 'MSH-9.3');
  assert.ok(r25.ok && r25.component?.name === 'Message Structure');
  assert.match(hl7.describeHl7Path('2.5', hl7Path('MSH-9.3')), /table 0354/);
});

test('OBX-5 varies: any component is accepted, also in 2.7+ where the package prints ST', () => {
  for (const v of ['2.3', '2.5.1', '2.6', '2.7', '2.7.1', '2.8']) {
    assert.is(hl7.field(v, 'OBX', 5)!.dataType, 'VARIES', v);
    const r = check(v, 'OBX-5.3.2');
    assert.ok(r.ok && r.varies, v);
  }
  assert.match(hl7.describeHl7Path('2.5.1', hl7Path('OBX-5')), /VARIES/);
  // The package's stray repetition count for 2.5.1 OBX-2 is corrected.
  assert.is(hl7.field('2.5.1', 'OBX', 2)!.repeatable, false);
});

test('unknown segment, field and component come with suggestions', () => {
  const seg = check('2.5.1', 'PDI-5');
  assert.ok(!seg.ok && seg.part === 'segment' && !seg.warning);
  if (!seg.ok) {
    assert.is(seg.replacements[0], 'PID');
    assert.is(seg.suggestions[0], 'PID Patient Identification');
  }
  const field = check('2.5.1', 'PID-50');
  assert.ok(!field.ok && field.part === 'field');
  if (!field.ok) {
    assert.ok(field.suggestions.includes('PID-5 Patient Name'), field.suggestions.join());
    assert.match(field.message, /PID has 39 fields/);
  }
  const comp = check('2.5.1', 'PID-5.19');
  assert.ok(!comp.ok && comp.part === 'component');
  if (!comp.ok) assert.ok(comp.replacements.includes('PID-5.1') && comp.replacements.includes('PID-5.9'), comp.replacements.join());
  const sub = check('2.5.1', 'PID-3.4.9');
  assert.ok(!sub.ok && sub.part === 'subcomponent');
  if (!sub.ok) assert.match(sub.message, /HD \(Hierarchic Designator\) has 3 subcomponents/);
});

test('a component of a primitive is an error; .1 of a primitive is the whole value and only warns', () => {
  const r = check('2.5.1', 'PID-8.2');
  assert.ok(!r.ok && r.part === 'component' && !r.warning);
  if (!r.ok) assert.equal(r.replacements, ['PID-8']);
  const one = check('2.5.1', 'PID-8.1');
  assert.ok(!one.ok && one.warning === true && one.field?.position === 8);
  const sub = check('2.5.1', 'PID-5.2.1');
  assert.ok(!sub.ok && sub.part === 'subcomponent' && sub.warning);
  const deep = check('2.5.1', 'PID-5.2.2');
  assert.ok(!deep.ok && deep.part === 'subcomponent' && !deep.warning);
});

test('repetitions: fine on repeating fields, a warning on the others, bounded ones warn past the bound', () => {
  assert.ok(check('2.5.1', 'PID-3[2].1').ok);
  assert.ok(check('2.5.1', 'PID-3[*]').ok);
  assert.ok(check('2.5.1', 'PID-7[1]').ok);
  const r = check('2.5.1', 'PID-7[2]');
  assert.ok(!r.ok && r.part === 'repetition' && r.warning === true && r.field?.name === 'Date/Time of Birth');
  const star = check('2.5.1', 'PID-8[*]');
  assert.ok(!star.ok && star.warning);
  // An error deeper in the path wins over the repetition warning.
  const both = check('2.5.1', 'PID-7[2].9');
  assert.ok(!both.ok && both.part === 'component' && !both.warning);
  // In 2.4, UB2-13 repeats at most 23 times.
  assert.is(hl7.field('2.4', 'UB2', 13)!.maxRepetitions, 23);
  assert.ok(check('2.4', 'UB2-13[23]').ok);
  const past = check('2.4', 'UB2-13[24]');
  assert.ok(!past.ok && past.warning && /at most 23/.test(past.message));
});

test('Z-segments are site-defined and always accepted', () => {
  for (const text of ['ZPD', 'ZPD-4', 'ZPD-4[3].2.1', 'ZZZ-99']) {
    const r = check('2.5.1', text);
    assert.ok(r.ok && r.siteDefined, text);
  }
  assert.match(hl7.describeHl7Path('2.5.1', hl7Path('ZPD-4')), /site-defined/);
});

test('MSH-1 and MSH-2 hold the delimiters: no components, no repetitions', () => {
  assert.ok(check('2.5.1', 'MSH-1').ok);
  assert.ok(check('2.5.1', 'MSH-2').ok);
  const comp = check('2.5.1', 'MSH-2.1');
  assert.ok(!comp.ok && comp.part === 'component' && !comp.warning);
  const rep = check('2.5.1', 'MSH-1[2]');
  assert.ok(!rep.ok && rep.part === 'repetition' && !rep.warning);
  assert.match(hl7.describeHl7Path('2.5.1', hl7Path('MSH-1')), /Field Separator .*read from the message header itself/);
  assert.ok(check('2.5.1', 'MSH-9.1').ok);
  assert.ok(check('2.5.1', 'MSH-12.1').ok);
});

test('2.8 is checked against 2.7.1, and what 2.7.1 lacks only warns', () => {
  const r = check('2.8', 'PID-3[*].4.1');
  assert.ok(r.ok && r.component?.name === 'Assigning Authority' && r.subcomponent?.name === 'Namespace ID');
  assert.match(hl7.describeHl7Path('2.8', hl7Path('PID-5.1')), /\(v2\.8 read as v2\.7\.1\)/);
  // PRT-16 arrives in 2.8.
  const newer = check('2.8', 'PRT-16');
  assert.ok(!newer.ok && newer.warning && /PRT has 15 fields/.test(newer.message) && /v2\.8 may define it/.test(newer.message));
  const seg = check('2.8', 'XYZ-1');
  assert.ok(!seg.ok && seg.warning);
  // Withdrawn fields keep their old structure: senders still send PID-2 as CX.
  assert.is(hl7.field('2.7.1', 'PID', 2)!.optionality, 'W');
  assert.is(hl7.field('2.7.1', 'PID', 2)!.dataType, 'CX');
  assert.ok(check('2.8', 'PID-2.4.1').ok);
});

test('message types, trigger events and structures', () => {
  const types = hl7.messageTypes('2.5.1').map((m) => m.code);
  assert.ok(types.includes('ADT') && types.includes('ORU') && types.includes('ACK'));
  assert.is(hl7.messageTypes('2.5.1').find((m) => m.code === 'ADT')!.description, 'ADT message');
  assert.ok(hl7.triggerEvents('2.5.1').some((t) => t.code === 'A01' && /Admit/.test(t.description)));
  assert.ok(hl7.messageTypeKnown('2.5.1', 'ADT'));
  assert.ok(hl7.triggerKnown('2.5.1', 'R01'));
  assert.is(hl7.messageTypeKnown('2.5.1', 'XYZ'), false);
  assert.is(hl7.triggerKnown('2.5.1', 'Q99X'), false);
  // ORM was withdrawn in 2.7 (replaced by OMG and friends): another version still defines it.
  assert.is(hl7.messageTypeStatus('2.7.1', 'ORM'), 'other-version');
  assert.is(hl7.messageTypeStatus('2.5.1', 'ORM'), 'defined');
  assert.is(hl7.messageTypeStatus('2.5.1', 'ADX'), 'unknown');
  assert.ok(hl7.suggestMessageTypes('2.5.1', 'ADX').includes('ADT'));
  const a04 = hl7.messageStructure('2.5.1', 'ADT^A04')!;
  assert.equal(a04.segments.slice(0, 4), ['MSH', 'EVN', 'PID', 'PD1']);
  assert.ok(a04.segments.includes('IN1'));
  const oru = hl7.messageStructure('2.5.1', 'ORU_R01')!;
  assert.equal(oru.tree[0], { name: 'MSH', min: 1, max: 1 });
  const group = oru.tree.find((n) => n.name === 'PATIENT_RESULT')!;
  assert.ok(group.children && group.max === undefined, 'PATIENT_RESULT repeats without bound');
  assert.ok(oru.segments.includes('OBX') && oru.segments.includes('OBR'));
  assert.is(hl7.messageStructure('2.5.1', 'ACK')!.code, 'ACK');
  assert.is(hl7.messageStructure('2.5.1', 'XYZ^Z99'), undefined);
});

test('segment occurrence in a message structure, and HL7 value tables', () => {
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ADT^A01', 'PID'), { present: true, repeats: false, required: true });
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ADT^A01', 'IN1'), { present: true, repeats: true, required: false });
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ADT^A01', 'ROL'), { present: true, repeats: true, required: false });
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ADT^A01', 'OBR'), { present: false, repeats: false, required: false });
  // In ORU^R01 the patient group is optional and the results repeat.
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ORU^R01', 'PID'), { present: true, repeats: true, required: false });
  assert.equal(hl7.segmentOccurrence('2.5.1', 'ORU^R01', 'OBR'), { present: true, repeats: true, required: true });
  assert.is(hl7.segmentOccurrence('2.5.1', 'ZZZ^Z01', 'PID'), undefined);
  const sex = hl7.hl7Table(hl7.field('2.5.1', 'PID', 8)!.table!)!;
  assert.equal([sex.id, sex.description], ['0001', 'Administrative Sex']);
  assert.ok(sex.values.some((v) => v.code === 'F' && v.description === 'Female'));
  assert.is(hl7.hl7Table('0076')!.values.find((v) => v.code === 'ADT')!.description, 'ADT message');
  assert.is(hl7.hl7Table(99999), undefined);
});

test.run();
