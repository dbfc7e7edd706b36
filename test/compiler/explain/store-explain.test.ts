// `hdc explain` says where the runtime keeps its state: the plan's store, or the SQLite default.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../../../compiler/api.ts';
import { explainPlan, summarize } from '../../../compiler/explain/explain.ts';

const compileText = (text: string) => compile(new Map([['p.hdc', text]]));
const project = (store: string) => `${store}
sender lab {
  path "/hl7/lab"
  accept ADT^A01
  on ADT^A01 run keep
}
workflow keep {
  store { type: message.type } in "kept"
}
`;

test('a PostgreSQL store is shown with its URL reference, never a value', () => {
  const { plan, diagnostics } = compileText(project('store postgres env("DATABASE_URL")'));
  assert.equal(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(plan!.store, { kind: 'postgres', url: { env: 'DATABASE_URL', src: 'p.hdc:1:16-1:35' }, src: 'p.hdc:1:1-1:35' });
  assert.match(summarize(plan!).store, /PostgreSQL env\(DATABASE_URL\)/);
  assert.match(explainPlan(plan!, 'text'), /Store: PostgreSQL env\(DATABASE_URL\)/);
});

test('without a store: SQLite, and how to choose PostgreSQL', () => {
  const { plan } = compileText(project(''));
  assert.is(plan!.store, undefined);
  assert.match(explainPlan(plan!, 'markdown'), /Store: SQLite in the runtime's data directory \(default; hdc run --store URL for PostgreSQL\)/);
});

test.run();
