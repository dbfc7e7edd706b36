// Transform declarations: parameters, HL7 reads, calls, overrides and their checks (HDC8001–HDC8014),
// FHIR R4 body checks on transform bodies, and the plan they lower to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../compiler/api.ts';
import { explainPlan } from '../../compiler/explain/explain.ts';
import { validate } from '../../plan/validate-plan.js';

const compile = (text: string) => compileSources(new Map([['t.hdc', text]]));
const errors = (text: string) => compile(text).diagnostics.filter((d) => d.severity === 'error');

test('a transform lowers to the plan: parameters, lets, HL7 reads and the resourceType', () => {
  const { plan, diagnostics } = compile(`
transform patient(pid: PID, id: value) -> Patient {
  let mrn = PID-3.1
  id: id
  identifier: [{ value: mrn, system: "urn:x" }]
  name: [{ family: PID-5.1, given: [pid.5.2] }]
}
`);
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(validate(plan), JSON.stringify(validate.errors));
  const t = plan!.transforms![0]!;
  assert.is(t.name, 'patient');
  assert.equal(t.params, [{ name: 'pid', kind: 'segment', type: 'PID' }, { name: 'id', kind: 'value' }]);
  assert.is(t.resultType, 'Patient');
  assert.equal(t.body.object![0], { key: 'resourceType', value: { lit: 'Patient' } });
  assert.equal(t.lets[0]!.value.hl7, { from: 'segment', field: 3, component: 1, struct: true }); // kept whole: a let may be passed on
  const name = JSON.stringify(t.body.object!.find((e) => e.key === 'name'));
  assert.match(name, /"hl7":\{"from":"segment","field":5,"component":2\}/);
});

test('message parameters: SEG-n reads the first occurrence, SEG[*] every one; calls keep the structure', () => {
  const { plan, diagnostics } = compile(`
transform ident(cx: CX) -> Identifier { value: cx.1, system: cx.4.2 }
transform pat(msg: message) -> Patient { identifier: ident(PID-3[*]), gender: PID-8 }
transform obs(obx: OBX) -> Observation { status: "final", code: { text: OBX-3.2 } }
transform all(msg: message) -> Bundle { type: "batch", entry: for o in OBX[*]: { resource: obs(o) } }
`);
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  const pat = plan!.transforms!.find((t) => t.name === 'pat')!;
  const ident = pat.body.object!.find((e) => e.key === 'identifier')!.value;
  assert.is(ident.transform, 'ident');
  assert.equal(ident.args![0]!.hl7, { from: 'message', segment: 'PID', field: 3, rep: '*', struct: true });
  const all = plan!.transforms!.find((t) => t.name === 'all')!;
  const entry = all.body.object!.find((e) => e.key === 'entry')!.value;
  assert.is(entry.for, 'o');
  assert.equal(entry.args![0]!.hl7, { from: 'message', segment: 'OBX', all: true });
});

test('HDC8002: an HL7 path no parameter holds', () => {
  const [d] = errors('transform p(pid: PID) -> Patient { gender: PV1-2 }\n');
  assert.is(d!.code, 'HDC8002');
  assert.is(d!.summary, 'no parameter holds a PV1 segment');
  assert.equal([d!.range.start.line, d!.range.start.col, d!.range.end.col], [1, 44, 49]);
});

test('HL7 paths in bodies are checked against the transform\'s version: HDC8011–HDC8014', () => {
  const at = (d: { range: { start: { line: number; col: number }; end: { col: number } } }) => [d.range.start.line, d.range.start.col, d.range.end.col];
  // A declared version: findings are errors, with the dictionary's suggestions.
  const [field] = errors('transform p(pid: PID) -> Patient version "2.5.1" { birthDate: date(PID-99) }\n');
  assert.is(field!.code, 'HDC8012');
  assert.match(field!.summary, /PID-99 does not exist in HL7 v2\.5\.1/);
  assert.equal(at(field!), [1, 68, 74]);
  assert.match(field!.detail, /PID-9 Patient Alias/);
  assert.equal(field!.suggestions?.[0]?.replacement, 'PID-9');
  const [comp] = errors('transform p(pid: PID) -> Patient version "2.5.1" { gender: pid.8.7 }\n');
  assert.is(comp!.code, 'HDC8013');
  // Overrides inherit the base's version; segments in for loops and children() are checked too.
  const inherited = errors('transform p(pid: PID) -> Patient version "2.5.1" { active: true }\ntransform q extends p { birthDate: date(PID-7.9) }\n');
  assert.equal(inherited.map((d) => d.code), ['HDC8013']);
  const segs = errors('transform p(msg: message) -> Patient version "2.5.1" { identifier: for o in OBQ[*]: { value: o.1 } }\n');
  assert.equal(segs.map((d) => d.code), ['HDC8011']);
  assert.is(errors('transform p(pid: PID) -> Patient version "9.9" { active: true }\n')[0]!.code, 'HDC8014');
  // No version: 2.8, checked against the bundled 2.7.1, so findings are warnings.
  const warned = compile('transform p(msg: message) -> Patient { birthDate: date(PIX-7) }\n').diagnostics;
  assert.equal(warned.map((d) => [d.code, d.severity]), [['HDC8011', 'warning']]);
  // Valid paths say nothing; the std library is clean.
  assert.equal(compile('transform p(pid: PID) -> Patient version "2.5.1" { birthDate: date(PID-7) gender: std.gender(PID-8) }\nimport "std/hl7v2-fhir"\n').diagnostics, []);
});

test('HDC8004 unknown parameter type, HDC8010 duplicate parameter, HDC8008 result type', () => {
  assert.is(errors('transform p(pid: PIDD) -> Patient { active: true }\n')[0]!.code, 'HDC8004');
  assert.is(errors('transform p(a: value, a: value) -> Patient { active: true }\n')[0]!.code, 'HDC8010');
  const [d] = errors('transform p(a: value) -> Patient2 { active: true }\n');
  assert.is(d!.code, 'HDC8008');
});

test('calls: HDC8005 arity, HDC8006 kind, HDC2009 unknown std transform', () => {
  const base = 'transform p(pid: PID) -> Patient { active: true }\n';
  assert.is(errors(base + 'transform b(msg: message) -> Bundle { type: "batch", entry: [{ resource: p(PID, 1) }] }\n')[0]!.code, 'HDC8005');
  const [k] = errors(base + 'transform b(msg: message) -> Bundle { type: "batch", entry: [{ resource: p(PV1) }] }\n');
  assert.is(k!.code, 'HDC8006');
  assert.is(k!.summary, 'parameter "pid" takes a PID segment, got a PV1 segment');
  assert.is(errors('transform b(msg: message) -> Bundle { type: "batch", entry: [{ resource: std.patient(PID) }] }\n')[0]!.code, 'HDC2009');
});

test('transform bodies are checked against FHIR R4 like create bodies', () => {
  const ds = errors('transform o(obx: OBX) -> Observation { stauts: "final", code: OBX-3 }\n');
  assert.equal(ds.map((d) => d.code).sort(), ['HDC4010', 'HDC4013']);
  assert.ok(ds.some((d) => d.summary === 'Observation has no element "stauts"'));
});

test('std: import "std/hl7v2-fhir" gives the library; names std.… are the library\'s; unknown libraries are HDC8001', () => {
  const ok = compile('import "std/hl7v2-fhir"\ntransform mine extends std.patient { active: true }\n');
  assert.equal(ok.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(ok.plan!.transforms!.some((t) => t.name === 'std.ADT_A01'));
  assert.is(errors('import "std/nope"\n')[0]!.code, 'HDC8001');
  assert.is(errors('transform std.mine(a: value) -> Patient { active: true }\n')[0]!.code, 'HDC8003');
});

test('extends: replaces and adds elements; HDC8007 for an unknown base; explain shows the change', () => {
  const src = `
transform base(pid: PID) -> Patient { gender: PID-8, active: false }
transform mine extends base { active: true, birthDate: date(PID-7) }
`;
  const { plan, diagnostics } = compile(src);
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  const mine = plan!.transforms!.find((t) => t.name === 'mine')!;
  assert.equal(mine.params, [{ name: 'pid', kind: 'segment', type: 'PID' }]);
  assert.equal(mine.body.object!.map((e) => e.key), ['resourceType', 'gender', 'active', 'birthDate']);
  assert.is(mine.extends, 'base');
  const md = explainPlan(plan!, 'markdown');
  assert.match(md, /\| `active` \| replaced \| `true` \|/);
  assert.match(md, /\| `birthDate` \| added \| `date\(pid\.7\)` \|/);
  assert.is(errors('transform mine extends nope { active: true }\n')[0]!.code, 'HDC8007');
});

test('go-to-definition data: calls and extends refer to the library\'s declarations in std/', () => {
  const src = 'import "std/hl7v2-fhir"\ntransform mine extends std.patient { active: true }\ntransform b(msg: message) -> Bundle = std.ADT_A01(msg)\n';
  const { project } = compile(src);
  const refs = project.symbols.references.filter((r) => r.file === 't.hdc');
  const ext = refs.find((r) => r.name === 'std.patient')!;
  assert.match(ext.target.file, /std\/hl7v2-fhir\/patient\.hdc$/);
  assert.is(ext.target.kind, 'transform');
  const call = refs.find((r) => r.name === 'std.ADT_A01')!;
  assert.match(call.target.file, /std\/hl7v2-fhir\/messages\.hdc$/);
  assert.equal([call.range.start.line, call.range.start.col], [3, 39]);
});

test('workflows call transforms over values', () => {
  const { plan, diagnostics } = compile(`
transform obs(code: value) -> Observation { status: "final", code: { text: code } }
api ehr fhir "https://ehr.example.org/R4"
sender s { path "/s" accept ORU^R01 fields { c = OBX-3.1 } on ORU^R01 run w }
workflow w { create ehr Observation body obs(c) }
`);
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.is(plan!.workflows[0]!.steps[0]!.body!.transform, 'obs');
});

test.run();
