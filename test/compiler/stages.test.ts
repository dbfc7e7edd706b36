// The compiler's named stages: each stops where its contract says, and what it promises is there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../compiler/api.ts';

const project = new Map([
  ['a.hdc', `sender lab {
  path "/hl7/lab"
  accept ORU^R01
  fields { mrn = PID-3.1 }
  on ORU^R01 run file_result
}
`],
  ['b.hdc', `workflow file_result {
  let id = mrn
  store id in "ids"
}

workflow unused {
  let x = 1
}
`],
]);

test('parsed: the trees and syntax diagnostics, no names', () => {
  const r = compile(project, { until: 'parsed' });
  assert.is(r.stage, 'parsed');
  assert.is(r.project.files.length, 2);
  assert.is(r.project.symbols.declarations.length, 0);
  assert.is(r.plan, undefined);
});

test('resolved: every declaration and reference, before the registered checks', () => {
  const r = compile(project, { until: 'resolved' });
  const names = r.project.symbols.declarations.map((d) => `${d.kind}:${d.name}`);
  for (const n of ['sender:lab', 'workflow:file_result', 'field:mrn', 'variable:id']) assert.ok(names.includes(n), n);
  assert.ok(r.project.symbols.references.some((x) => x.name === 'mrn'));
  // HDC2008 (a workflow never run) is a registered check: it runs in the Checked stage.
  assert.not.ok(r.diagnostics.some((d) => d.code === 'HDC2008'));
  assert.is(r.plan, undefined);
});

test('resolved with a focus: that file in full, and the senders its workflows read', () => {
  const r = compile(project, { until: 'resolved', focus: 'b.hdc' });
  const id = r.project.symbols.declarations.find((d) => d.name === 'id');
  assert.ok(id?.visible, 'the variable has its scope');
  assert.is(r.project.symbols.declarations.find((d) => d.kind === 'field' && d.name === 'mrn')?.container, 'lab');
});

test('resolved with a focus offset: only the declaration holding it', () => {
  const text = project.get('b.hdc')!;
  const r = compile(project, { until: 'resolved', focus: 'b.hdc', focusOffset: text.indexOf('store') });
  const names = r.project.symbols.declarations.map((d) => `${d.kind}:${d.name}`);
  assert.ok(names.includes('variable:id') && names.includes('field:mrn'), names.join());
  assert.not.ok(names.includes('variable:x'), 'the other workflow is not walked');
});

test('checked: every diagnostic, no plan; lowered: the plan', () => {
  const checked = compile(project, { until: 'checked' });
  assert.equal(checked.diagnostics.map((d) => d.code), ['HDC2008']);
  assert.is(checked.plan, undefined);
  const lowered = compile(project);
  assert.is(lowered.stage, 'lowered');
  assert.equal(lowered.plan?.workflows.map((w) => w.name), ['file_result', 'unused']);
});

test('a compiler failure is reported as HDC1000 on the file, not thrown', () => {
  const failing = new Map() as NonNullable<Parameters<typeof compile>[1]>['parseCache'] & Map<string, never>;
  failing.get = () => { throw new Error('boom'); };
  const r = compile(new Map([['x.hdc', 'workflow w {}\n']]), { parseCache: failing });
  assert.equal(r.diagnostics.map((d) => [d.code, d.file]), [['HDC1000', 'x.hdc']]);
  assert.match(r.diagnostics[0]!.detail, /boom/);
});

test.run();
