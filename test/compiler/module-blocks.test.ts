// A module's declarations reach the language through its spec alone: parsed as
// `KEYWORD [NAME] [from NAME] { settings }`, checked against the spec's settings, lowered into
// plan.modules, formatted, and listed in the parser's expectations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../compiler/api.ts';
import { registerModuleSpec, unregisterModuleSpec, type ModuleSpec } from '../../compiler/specs/module-spec.ts';
import { formatSource } from '../../compiler/format/format.ts';
import { validate } from '../../plan/validate-plan.js';
import { explainPlan } from '../../compiler/explain/explain.ts';

const demo: ModuleSpec = {
  name: 'demo',
  declarations: [
    {
      keyword: 'board', doc: 'A board of runs.', name: 'required',
      settings: {
        path: { kind: 'string', doc: 'Where it is served.', required: true },
        refresh: { kind: 'duration', doc: 'How often it refreshes.' },
        token: { kind: 'value', doc: 'Access token.', secret: true },
        show: { kind: 'enum', options: ['runs', 'messages'], doc: 'What it lists.', repeatable: true },
      },
    },
    { keyword: 'export_data', doc: 'Bulk export.', name: 'optional', from: 'api', fromRequired: true, settings: { types: { kind: 'strings', doc: 'Resource types.' } } },
  ],
};

const compileText = (text: string) => compile(new Map([['m.hdc', text]]));

test.before(() => registerModuleSpec(demo));
test.after(() => unregisterModuleSpec('demo'));

test('a module block lowers into plan.modules under the module and the block name', () => {
  const r = compileText(`api ehr fhir "https://ehr.example.org/R4"

board ops {
  path "/ops"
  refresh 30s
  token env("BOARD_TOKEN")
  show runs
}

export_data from ehr {
  types "Patient", "Observation"
}
`);
  assert.equal(r.diagnostics, []);
  assert.ok(validate(r.plan), JSON.stringify(validate.errors));
  assert.equal(r.plan!.modules, {
    demo: {
      ops: { kind: 'board', src: 'm.hdc:3:1-8:2', name: 'ops', settings: { path: '/ops', refresh: 30_000, token: { env: 'BOARD_TOKEN', src: 'm.hdc:6:9-6:27' }, show: 'runs' } },
      export_data: { kind: 'export_data', src: 'm.hdc:10:1-12:2', from: 'ehr', settings: { types: ['Patient', 'Observation'] } },
    },
  });
  assert.ok(r.project.symbols.lookup('module', 'ops'), 'a named block is a declaration');
  const text = explainPlan(r.plan!, 'markdown');
  assert.match(text, /## Modules/);
  assert.match(text, /\| demo \| `board` `ops` \| path `\/ops`<br>refresh `30000`<br>token `env\(BOARD_TOKEN\)`<br>show `runs` \|/);
  assert.match(text, /`export_data` from `ehr`/);
});

test('its settings are checked against the spec, and from NAME is a reference', () => {
  const r = compileText(`board ops {
  colour "blue"
  show everything
}

export_data from nowhere {
}

export_data again {
}
`);
  assert.equal(r.diagnostics.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.col}`), [
    'HDC2006 1:7', 'HDC2005 2:3', 'HDC2042 3:8', 'HDC2001 6:18', 'HDC2006 9:13',
  ]);
});

test('without the spec registered, the keyword is not a declaration', () => {
  unregisterModuleSpec('demo');
  try {
    const r = compileText('board ops {\n  path "/ops"\n}\n');
    assert.is(r.diagnostics[0]?.code, 'HDC1001');
    // The installed modules' keywords (monitoring's) are listed after the core's; the demo's are not.
    assert.match(r.diagnostics[0]!.detail, /A file holds import, store, auth, api, sender, workflow, smart launch, map, transform,? (and )?test\b/);
    assert.not.match(r.diagnostics[0]!.detail, /\bboard\b/);
  } finally {
    registerModuleSpec(demo);
  }
  assert.match(compileText('nonsense\n').diagnostics[0]!.detail, /, board and export_data blocks/);
});

test('the formatter lays a module block out like any block', () => {
  const out = formatSource('board   ops{\npath "/ops"\n     refresh 30s}\n', 'm.hdc');
  assert.equal(out.diagnostics, []);
  assert.is(out.text, 'board ops {\n  path "/ops"\n  refresh 30s\n}\n');
});

test.run();
