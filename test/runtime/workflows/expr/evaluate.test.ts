import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, type Scope } from '../../../../runtime/workflows/expr/evaluate.ts';
import type { Expr } from '../../../../plan/plan.types.ts';

const lit = (v: string | number | boolean | null): Expr => ({ lit: v });
const ref = (name: string, ...path: (string | number)[]): Expr => (path.length ? { ref: name, path } : { ref: name });
const op = (o: NonNullable<Expr['op']>, ...args: Expr[]): Expr => ({ op: o, args });
const call = (name: string, ...args: Expr[]): Expr => ({ call: name, args });

const scope: Scope = {
  vars: {
    mrn: '12345',
    count: 3,
    empty: [],
    patient: { total: 1, entry: [{ resource: { id: 'p1', name: [{ given: ['Ann', 'B'] }, { given: ['C'] }] } }, { resource: { id: 'p2' } }] },
    $meta: { patient: { status: 200, headers: { 'content-type': 'application/fhir+json', etag: 'W/"1"' } } },
  },
};
const ev = (e: Expr, s: Scope = scope) => evaluate(e, s);

test('literals and references with paths', () => {
  assert.is(ev(lit('x')), 'x');
  assert.is(ev(lit(null)), null);
  assert.is(ev(ref('mrn')), '12345');
  assert.is(ev(ref('patient', 'entry', 0, 'resource', 'id')), 'p1');
  assert.is(ev(ref('patient', 'entry', 5, 'resource', 'id')), null);
  assert.is(ev(ref('nobody', 'x', 1)), null);
  assert.is(ev(ref('mrn', 'length')), null);
  assert.is(ev(ref('patient', 'constructor')), null);
  assert.is(ev(ref('toString')), null);
});

test('* maps the rest of the path over an array and flattens', () => {
  assert.equal(ev(ref('patient', 'entry', '*', 'resource', 'id')), ['p1', 'p2']);
  assert.equal(ev(ref('patient', 'entry', 0, 'resource', 'name', '*', 'given')), ['Ann', 'B', 'C']);
  assert.equal(ev(ref('patient', 'entry', '*', 'resource', 'name', '*', 'given', 0)), ['Ann', 'C']);
  assert.is(ev(ref('mrn', '*')), null);
});

test('$status and $headers read the step metadata', () => {
  assert.is(ev(ref('patient', '$status')), 200);
  assert.is(ev(ref('patient', '$headers', 'Content-Type')), 'application/fhir+json');
  assert.is(ev(ref('patient', '$headers', 'missing')), null);
  assert.is(ev(ref('other', '$status')), null);
});

test('rel reads the current repetition', () => {
  assert.is(ev({ rel: [4, 1] }, { vars: {}, rel: (c) => c.join('.') }), '4.1');
  assert.is(ev({ rel: [1] }), null);
});

test('templates render null as empty', () => {
  assert.is(ev({ template: ['urn:mrn|', ref('mrn'), '/', ref('missing'), '/', ref('count')] }), 'urn:mrn|12345//3');
  assert.is(ev({ template: ['n=', ref('patient', 'total')] }), 'n=1');
});

test('objects keep their order; arrays', () => {
  const v = ev({ object: [{ key: 'b', value: lit(1) }, { key: 'a', value: ref('mrn') }] });
  assert.equal(Object.keys(v as object), ['b', 'a']);
  assert.equal(v, { b: 1, a: '12345' });
  assert.equal(ev({ array: [lit(1), ref('missing')] }), [1, null]);
});

test('comparisons', () => {
  assert.is(ev(op('==', ref('missing'), lit(null))), true);
  assert.is(ev(op('==', lit(''), lit(null))), false);
  assert.is(ev(op('==', ref('patient', 'total'), lit(0))), false);
  assert.is(ev(op('!=', ref('patient', 'total'), lit(0))), true);
  assert.is(ev(op('==', ref('mrn'), lit(12345))), true);
  assert.is(ev(op('<', lit(9), lit(10))), true);
  assert.is(ev(op('<', lit('9'), lit('10'))), false);
  assert.is(ev(op('<', lit('2024-01-02'), lit('2024-01-10'))), true);
  assert.is(ev(op('>=', lit(3), ref('count'))), true);
  assert.is(ev(op('<', ref('missing'), lit(1))), false);
  assert.is(ev(op('>', ref('missing'), lit(1))), false);
});

test('logic: null and empty lists are falsy', () => {
  assert.is(ev(op('and', lit(true), ref('missing'))), false);
  assert.is(ev(op('or', ref('empty'), lit('x'))), true);
  assert.is(ev(op('not', ref('empty'))), true);
  assert.is(ev(op('not', ref('mrn'))), false);
});

test('arithmetic and in', () => {
  assert.is(ev(op('neg', lit(2))), -2);
  assert.is(ev(op('neg', lit('2'))), null);
  assert.is(ev(op('+', lit(2), lit(3))), 5);
  assert.is(ev(op('+', lit('a'), lit(3))), 'a3');
  assert.is(ev(op('+', lit('a'), ref('missing'))), 'a');
  assert.is(ev(op('+', lit(1), ref('missing'))), null);
  assert.is(ev(op('-', lit(5), lit(3))), 2);
  assert.is(ev(op('in', lit('B'), ref('patient', 'entry', 0, 'resource', 'name', 0, 'given'))), true);
  assert.is(ev(op('in', lit('Z'), { array: [lit('A')] })), false);
  assert.is(ev(op('in', lit('Z'), ref('missing'))), false);
});

test('functions', () => {
  const ids = ref('patient', 'entry', '*', 'resource', 'id');
  assert.is(ev(call('first', ids)), 'p1');
  assert.is(ev(call('last', ids)), 'p2');
  assert.is(ev(call('count', ids)), 2);
  assert.is(ev(call('count', ref('missing'))), 0);
  assert.is(ev(call('exists', ref('missing'))), false);
  assert.is(ev(call('exists', ref('mrn'))), true);
  assert.is(ev(call('empty', ref('empty'))), true);
  assert.is(ev(call('lower', lit('AbC'))), 'abc');
  assert.is(ev(call('upper', lit('AbC'))), 'ABC');
  assert.is(ev(call('upper', ref('patient'))), null);
  assert.is(ev(call('trim', lit('  x '))), 'x');
  assert.is(ev(call('coalesce', ref('missing'), lit(''), lit('z'))), 'z');
  assert.is(ev(call('join', ids, lit('+'))), 'p1+p2');
  assert.equal(ev(call('split', lit('a,b'), lit(','))), ['a', 'b']);
  assert.is(ev(call('concat', lit('a'), ref('missing'), lit(1))), 'a1');
  assert.equal(ev(call('concat', ids, lit('p3'))), ['p1', 'p2', 'p3']);
  assert.is(ev(call('substring', lit('abcdef'), lit(1), lit(3))), 'bc');
  assert.is(ev(call('substring', lit('abcdef'), lit(4))), 'ef');
  assert.is(ev(call('replace', lit('a-b-c'), lit('-'), lit('/'))), 'a/b/c');
  assert.is(ev(call('number', lit(' 12.5 '))), 12.5);
  assert.is(ev(call('number', lit('12a'))), null);
  assert.is(ev(call('string', lit(12))), '12');
  assert.is(ev(call('contains', lit('hello'), lit('ell'))), true);
  assert.is(ev(call('contains', ids, lit('p2'))), true);
  assert.is(ev(call('starts_with', lit('hello'), lit('he'))), true);
  assert.is(ev(call('ends_with', lit('hello'), lit('lo'))), true);
  assert.is(ev(call('sum', { array: [lit(1), lit('2'), lit(3.5)] })), 6.5);
  assert.is(ev(call('sum', { array: [lit(1), lit('x')] })), null);
  assert.is(ev(call('min', { array: [lit(3), lit(1), lit(2)] })), 1);
  assert.is(ev(call('max', lit('2024-01-01'), lit('2025-01-01'))), '2025-01-01');
  assert.equal(ev(call('distinct', { array: [lit('a'), lit('b'), lit('a')] })), ['a', 'b']);
  assert.is(ev(call('no_such_function')), null);
});

test('date and datetime keep the precision present', () => {
  const d = (v: string) => ev(call('date', lit(v)));
  const dt = (v: string) => ev(call('datetime', lit(v)));
  assert.is(d('2024'), '2024');
  assert.is(d('202403'), '2024-03');
  assert.is(d('20240315'), '2024-03-15');
  assert.is(d('20240315103000+0100'), '2024-03-15');
  assert.is(d('2024-03-15T10:30:00Z'), '2024-03-15');
  assert.is(d('20240230'), null);
  assert.is(d('20241301'), null);
  assert.is(d('not a date'), null);
  assert.is(dt('202403151030'), '2024-03-15T10:30:00');
  assert.is(dt('20240315103045'), '2024-03-15T10:30:45');
  assert.is(dt('20240315103045.1234-0500'), '2024-03-15T10:30:45.1234-05:00');
  assert.is(dt('198808181126+0215'), '1988-08-18T11:26:00+02:15');
  assert.is(dt('20240315'), '2024-03-15');
  assert.is(dt('20240315103000^S'), '2024-03-15T10:30:00');
  assert.is(dt('2024-03-15T10:30:00.5Z'), '2024-03-15T10:30:00.5Z');
  assert.is(dt('2024-03-15T25:00'), null);
  assert.is(ev(call('datetime', lit(12))), null);
});

test('format_date', () => {
  assert.is(ev(call('format_date', lit('20240315103045'), lit('DD/MM/YYYY HH:mm:ss'))), '15/03/2024 10:30:45');
  assert.is(ev(call('format_date', lit('2024-03-15'), lit('YYYYMMDD'))), '20240315');
  assert.is(ev(call('format_date', lit('garbage'), lit('YYYY'))), null);
});

test('now and today', () => {
  assert.match(ev(call('now')) as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.match(ev(call('today')) as string, /^\d{4}-\d{2}-\d{2}$/);
});

test('secrets resolve through the hook, and name the .hdc line when it is missing', () => {
  assert.is(ev({ secret: { env: 'X' } } as Expr, { vars: {}, secrets: () => 's3cr3t' }), 's3cr3t');
  assert.throws(() => ev({ secret: { env: 'X' }, src: 'a.hdc:12:3-12:9' } as Expr), /a\.hdc:12/);
});

test('never throws on odd input', () => {
  for (const e of [{}, { op: '+' }, { op: 'not', args: [] }, { call: 'first' }, { template: [] }, { ref: 'x', path: ['*', '*'] }] as Expr[]) {
    ev(e);
  }
});

test.run();
