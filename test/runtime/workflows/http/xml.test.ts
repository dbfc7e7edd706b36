// The XML reader behind `format xml`: the value it builds, and what it refuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseXml, XmlError } from '../../../../runtime/workflows/http/xml.ts';

test('elements, attributes, repeated children, text and namespaces', () => {
  const v = parseXml(`<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<s:result xmlns:s="urn:x" xmlns="urn:y" total="2">
  <s:item id="1"><name>Ann</name><tag>a</tag><tag>b</tag></s:item>
  <s:item id="2"><name/><note lang="en">see <![CDATA[<below>]]> &amp; more</note></s:item>
  <empty></empty>
</s:result>`);
  assert.equal(v, {
    result: {
      total: '2',
      item: [
        { id: '1', name: 'Ann', tag: ['a', 'b'] },
        { id: '2', name: '', note: { lang: 'en', $text: 'see <below> & more' } },
      ],
      empty: '',
    },
  });
});

test('a text-only root, entities and character references, a BOM', () => {
  assert.equal(parseXml('\uFEFF<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</a>'), { a: '<>&"\'AB😀' });
  assert.equal(parseXml("<a b='x &amp; y'/>"), { a: { b: 'x & y' } });
});

test('a child element wins over an attribute of the same name; __proto__ is an ordinary name', () => {
  const v = parseXml('<a id="attr"><id>child</id><__proto__>p</__proto__></a>') as { a: Record<string, unknown> };
  assert.is(v.a.id, 'child');
  assert.is(Object.getPrototypeOf(v.a), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(v.a, '__proto__'));
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

const refused: Array<[string, RegExp]> = [
  ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /document type declarations are not accepted/],
  ['<a><!DOCTYPE a></a>', /document type declarations are not accepted/],
  ['<a>&x;</a>', /unknown entity &x;/],
  ['<a>fish & chips</a>', /"&" must start an entity/],
  ['<a>&#0;</a>', /is not a character/],
  ['<a><b></a>', /<\/a> closes <b>/],
  ['<a>', /<a> is not closed/],
  ['<a></a><b></b>', /content after the root element/],
  ['text<a/>', /text before the root element/],
  ['', /no root element/],
  ['<a b=c/>', /the value of b is not quoted/],
  ['<a b="1" b="2"/>', /attribute b is repeated/],
  ['<a b="<"/>', /"<" in the value of b/],
  ['<a\n><!-- open', /unterminated comment \(line 2\)/],
  ['<a><![CDATA[x</a>', /unterminated CDATA section/],
];
for (const [xml, message] of refused) {
  test(`refuses ${JSON.stringify(xml)}`, () => {
    try {
      parseXml(xml);
      assert.unreachable('parsed');
    } catch (e) {
      assert.instance(e, XmlError);
      assert.match((e as Error).message, message);
    }
  });
}

test('deep nesting is refused without exhausting the stack', () => {
  const deep = '<a>'.repeat(300) + '</a>'.repeat(300);
  assert.throws(() => parseXml(deep), /nest deeper than 256/);
  const ok = '<a>'.repeat(200) + 'x' + '</a>'.repeat(200);
  let v: unknown = parseXml(ok);
  for (let i = 0; i < 199; i++) v = (v as { a: unknown }).a;
  assert.equal(v, { a: 'x' });
});

test('a large document is read in linear time', () => {
  const items = Array.from({ length: 20_000 }, (_, i) => `<slot id="${i}"><start>2024-01-01</start></slot>`).join('');
  const started = performance.now();
  const v = parseXml(`<slots>${items}</slots>`) as { slots: { slot: unknown[] } };
  assert.is(v.slots.slot.length, 20_000);
  assert.ok(performance.now() - started < 5000);
});

test.run();
