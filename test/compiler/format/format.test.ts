// The canonical formatter: idempotent on every example and golden case, never changes the plan,
// keeps every comment, normalises layout, and leaves broken files alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { compileSources, findHdcFiles } from '../../../compiler/api.ts';
import { formatSource } from '../../../compiler/format/format.ts';
import { WIDTH } from '../../../compiler/format/doc.ts';
import { parse } from '../../../compiler/syntax/parser.ts';

const root = new URL('../../..', import.meta.url).pathname;
process.chdir(root);

const fmt = (text: string): string => {
  const r = formatSource(text, 'inline.hdc');
  assert.equal(r.diagnostics, [], 'no diagnostics');
  return r.text;
};

/** The plan without what legitimately moves with line numbers: source ranges and hashes. */
function planShape(file: string, text: string): string | undefined {
  const { plan } = compileSources(new Map([[file, text]]));
  if (!plan) return undefined;
  return JSON.stringify(plan, (k, v) => (k === 'src' || k === 'hash' || k === 'sources' ? undefined : v));
}

const commentTexts = (text: string): string[] =>
  parse(text, 'x.hdc').ast.comments.map((c) => c.text.split(/\r?\n/).map((l) => l.trimEnd()).join('\n')).sort();

test('every example and golden case that parses: idempotent, same plan, same comments', () => {
  const files = findHdcFiles(['examples', 'test/compiler/cases']);
  assert.ok(files.length >= 5, `found ${files.length} files`);
  let formatted = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const once = formatSource(text, file);
    if (once.diagnostics.some((d) => d.severity === 'error')) {
      assert.is(once.text, text, `${file}: a file with errors is returned unchanged`);
      assert.not.ok(once.changed);
      continue;
    }
    formatted++;
    const twice = formatSource(once.text, file);
    assert.is(twice.text, once.text, `${file}: fmt(fmt(x)) == fmt(x)`);
    assert.not.ok(twice.changed, `${file}: second run reports no change`);
    assert.equal(commentTexts(once.text), commentTexts(text), `${file}: comments kept`);
    assert.is(planShape(file, once.text), planShape(file, text), `${file}: same plan`);
    for (const l of once.text.split('\n')) assert.not.match(l, /[ \t]$/, `${file}: trailing whitespace in ${JSON.stringify(l)}`);
  }
  assert.ok(formatted >= 5, `formatted ${formatted} files`);
});

test('comments in every position survive, with their text', () => {
  const src = `/* header
   block */
// before auth
auth a basic { // after brace
  user env("U") // trailing setting
  /* before password */ password env("P")
  // dangling in auth
}
api x rest "https://x.example.org" { auth a /* trailing block */ }
sender s { path "/s" match MSH-4 == /* inside match */ "A"
  accept ADT^A01
  fields {
    mrn = PID-3 // trailing field
    // before group
    obx = each OBX { v = OBX-5 /* in group */ }
  }
  on ADT^A01 run w // trailing route
}
workflow w {
  p = search x Patient { identifier: "1", // inside object
    name: "n" }
  if p.total == 0 /* in condition */ { reject AE "no" } // after if
  else { // else body
    let q = 1
  }
  for each e in p.entry { /* empty loop body */ }
}
// end of file
`;
  const out = fmt(src);
  assert.equal(commentTexts(out), commentTexts(src));
  assert.is(commentTexts(src).length, 18);
  // Placement: trailing stays trailing, comments inside expressions move before their statement.
  assert.match(out, /\n  user env\("U"\) \/\/ trailing setting\n/);
  assert.match(out, /\n  \/\/ inside object\n  p = search x Patient \{ identifier: "1", name: "n" \}\n/);
  assert.match(out, /\n    mrn = PID-3 \/\/ trailing field\n    \/\/ before group\n    obx = each OBX \{\n/);
  assert.match(out, /\n  \/\/ dangling in auth\n\}\n/);
  assert.match(out, /\n  for each e in p.entry \{\n    \/\* empty loop body \*\/\n  \}\n/);
  assert.ok(out.endsWith('}\n\n// end of file\n') || out.endsWith('}\n// end of file\n'));
  assert.is(fmt(out), out);
});

test('messy spacing is normalised to the one layout', () => {
  const src = `workflow   admit{
\tconcurrency   2


  patient=search ehr Patient{identifier:"urn:x|{mrn}"}   pages 2
  if patient.total==0{reject AE "unknown {mrn}"}else if patient.total>1 {reject AR "many"}
  let   n = -(-1)+ (2-3)
  store {a:1,b:[1,2]} in "things"   key   n
}
api ehr fhir "https://ehr.example.org/R4" { timeout 10s retry 3 }



sender s{path "/s" accept ADT^A01 ADT^A04,ADT^A08 on ADT^A01,ADT^A04 run admit}
`;
  const expected = `workflow admit {
  concurrency 2

  patient = search ehr Patient { identifier: "urn:x|{mrn}" } pages 2
  if patient.total == 0 {
    reject AE "unknown {mrn}"
  } else if patient.total > 1 {
    reject AR "many"
  }
  let n = -(-1) + (2 - 3)
  store { a: 1, b: [1, 2] } in "things" key n
}

api ehr fhir "https://ehr.example.org/R4" {
  timeout 10s
  retry 3
}

sender s {
  path "/s"
  accept ADT^A01, ADT^A04, ADT^A08
  on ADT^A01, ADT^A04 run admit
}
`;
  assert.is(fmt(src), expected);
});

test('parentheses follow precedence: kept where needed, dropped where not', () => {
  const src = `workflow w {
  let a = ((1 + 2)) - (3 - 4)
  let b = not (x and y) or (p and q)
  let c = (x or y) and z
  let d = -(a - b) + (-c)
  let e = (a + b).length
  let f = (a == b) == c
  store (a + b) in "c"
}
`;
  const out = fmt(src);
  assert.match(out, /let a = 1 \+ 2 - \(3 - 4\)\n/);
  assert.match(out, /let b = not \(x and y\) or p and q\n/);
  assert.match(out, /let c = \(x or y\) and z\n/);
  assert.match(out, /let d = -\(a - b\) \+ -c\n/);
  assert.match(out, /let e = \(a \+ b\)\.length\n/);
  assert.match(out, /let f = \(a == b\) == c\n/);
  assert.match(out, /store a \+ b in "c"\n/);
  const strip = (t: string) => JSON.stringify(parse(t, 'x').ast.decls, (k, v) => (k.endsWith('ange') ? undefined : v));
  assert.is(strip(out), strip(src), 'same tree');
});

test('objects are inline when they fit in the width, else one entry per line without trailing comma', () => {
  const short = fmt('workflow w {\n  x = post api "/p" body { a: 1, b: "two" }\n}\n');
  assert.match(short, /x = post api "\/p" body \{ a: 1, b: "two" \}\n/);
  const entries = Array.from({ length: 8 }, (_, i) => `key_number_${i}: value_${i}`).join(', ');
  const long = fmt(`workflow w {\n  x = post api "/p" body { ${entries}, nested: { a: 1 } }\n}\n`);
  assert.match(long, /body \{\n    key_number_0: value_0,\n/);
  assert.match(long, /\n    nested: \{ a: 1 \}\n  \}\n/, 'last entry has no comma; nested object stays inline');
  for (const l of long.split('\n')) assert.ok(l.length <= WIDTH, `line within ${WIDTH}: ${l}`);
  const clauses = fmt(`workflow w {\n  x = post api "/accounts/{mrn}/notes" query { since: today() } headers { "X-Trace": message.controlId } body { n: 1 }\n}\n`);
  assert.match(clauses, /x = post api "\/accounts\/\{mrn\}\/notes"\n    query \{ since: today\(\) \}\n    headers \{ "X-Trace": message.controlId \}\n    body \{ n: 1 \}\n/);
});

test('literals are written as in the source', () => {
  const src = 'workflow w {\n  let a = 1.50\n  let b = "tab\\t{x} \\{literal\\}"\n  let c = "\\"q\\""\n}\napi x rest "https://x" {\n  timeout 1500ms\n}\n';
  const out = fmt(src);
  assert.match(out, /let a = 1\.50\n/);
  assert.match(out, /let b = "tab\\t\{x\} \\\{literal\\\}"\n/);
  assert.match(out, /let c = "\\"q\\""\n/);
  assert.match(out, /timeout 1500ms\n/);
});

test('CRLF, tabs and runs of blank lines are normalised; a final newline is added', () => {
  const out = fmt('workflow w {\r\n\tlet a = 1\r\n\r\n\r\n\r\n\tlet b = 2   \r\n}');
  assert.is(out, 'workflow w {\n  let a = 1\n\n  let b = 2\n}\n');
  assert.is(fmt(''), '');
});

test('broken input is returned unchanged, with its diagnostics', () => {
  const broken = 'workflow w {\n  let a = \n}\nsender s { path "/s" \n';
  const r = formatSource(broken, 'broken.hdc');
  assert.is(r.text, broken);
  assert.not.ok(r.changed);
  assert.ok(r.diagnostics.length >= 1);
  assert.is(r.diagnostics[0]!.code, 'HDC1001');
  const lexError = formatSource('workflow w { let a = 1 § }', 'lex.hdc');
  assert.is(lexError.text, 'workflow w { let a = 1 § }');
  assert.ok(lexError.diagnostics.some((d) => d.code === 'HDC1003'));
});

test('comments and blank lines inserted anywhere between tokens never break formatting', () => {
  const sources = findHdcFiles(['examples', 'test/compiler/cases']).map((f) => readFileSync(f, 'utf8'));
  const noise = ['/* c */', '// c\n', '\n\n\n', '\n', '/* multi\n   line */', '\t', ' /**/ '];
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed / 0x100000000;
  };
  let checked = 0;
  for (let i = 0; i < 400; i++) {
    let text = sources[Math.floor(random() * sources.length)]!;
    for (let k = 0; k < 3; k++) {
      let at = Math.floor(random() * text.length);
      while (at < text.length && !/\s/.test(text[at]!)) at++;
      text = text.slice(0, at) + noise[Math.floor(random() * noise.length)] + text.slice(at);
    }
    const once = formatSource(text, 'f.hdc');
    if (once.diagnostics.some((d) => d.severity === 'error')) {
      assert.is(once.text, text);
      assert.ok(once.diagnostics.every((d) => d.code !== 'HDC1006'), 'the formatter reproduced every file that parses');
      continue;
    }
    checked++;
    assert.is(formatSource(once.text, 'f.hdc').text, once.text, 'idempotent');
    assert.equal(commentTexts(once.text), commentTexts(text));
  }
  assert.ok(checked > 200, `checked ${checked}`);
});

test.run();
