// Every FHIR interaction of the engine against the real FHIR peer (medplum router, in memory):
// create, read, update, conditional create (If-None-Exist), conditional update, delete, and search
// following `next` links up to maxPages, merged into one searchset Bundle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Step } from '../../../../plan/plan.types.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { restoreSearch } from '../../../../runtime/workflows/fhir-step.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { startFhirServer, type FhirServer } from '../../../peers/fhir-server.ts';
import { api, enqueue, lit, obj, plan, ref, src, tempDb, tpl, workflow, type TempDb } from '../fixtures.ts';

let fhir: FhirServer;
let t: TempDb;

test.before(async () => {
  fhir = await startFhirServer();
});
test.after(async () => {
  await fhir.close();
});
test.before.each(() => {
  t = tempDb();
  fhir.requests.length = 0;
});
test.after.each(() => t.dispose());

async function runSteps(steps: Step[], fields: Record<string, unknown> = {}) {
  const events = new RunEvents();
  const engine = new Engine({ db: t.db, plan: plan({ apis: [api('ehr', 'fhir', fhir.baseUrl)], workflows: [workflow('w', steps)] }), events, maxAttempts: 1 });
  engine.start();
  const [id] = enqueue(t.journal, [{ workflow: 'w', fields }]);
  const finished = events.waitForFinished(id, 15_000);
  engine.pump();
  const e = await finished;
  await engine.stop();
  const row = t.db.prepare('SELECT status, error FROM workflow_runs WHERE id = ?').get(id) as { status: string; error: string | null };
  const results = Object.fromEntries(
    (t.db.prepare('SELECT step_id, kind, result FROM run_steps WHERE run_id = ?').all(id) as Array<{ step_id: string; kind: string; result: string | null }>).map((r) => [r.step_id, r.result === null ? null : r.kind === 'fhir' ? restoreSearch(JSON.parse(r.result)) : JSON.parse(r.result)]),
  );
  return { status: e?.status, error: row.error, results };
}
const patientBody = (mrn: string, family: string) =>
  obj({ identifier: { array: [obj({ system: lit('urn:mrn'), value: lit(mrn) })] }, name: { array: [obj({ family: lit(family) })] } });

test('create, read, update, delete', async () => {
  const r = await runSteps([
    { id: 'created', named: true, kind: 'fhir', api: 'ehr', interaction: 'create', resourceType: 'Patient', body: patientBody('C1', 'Before'), src: src(1) },
    { id: 'read', named: true, kind: 'fhir', api: 'ehr', interaction: 'read', resourceType: 'Patient', resourceId: ref('created', 'id'), src: src(2) },
    { id: 'updated', named: true, kind: 'fhir', api: 'ehr', interaction: 'update', resourceType: 'Patient', resourceId: ref('created', 'id'), body: patientBody('C1', 'After'), src: src(3) },
    { id: 'status', named: true, kind: 'let', value: ref('updated', '$status'), src: src(4) },
    { id: 'gone', named: true, kind: 'fhir', api: 'ehr', interaction: 'delete', resourceType: 'Patient', resourceId: ref('created', 'id'), src: src(5) },
  ]);
  assert.is(r.status, 'done', r.error ?? '');
  const id = r.results.created.body.id;
  assert.is(r.results.created.status, 201);
  assert.is(r.results.read.body.name[0].family, 'Before');
  assert.is(r.results.updated.body.name[0].family, 'After');
  assert.is(r.results.updated.body.id, id);
  assert.equal(r.results.status, { value: 200 });
  assert.equal(fhir.requests.map((q) => `${q.method} ${q.path}`), ['POST /fhir/Patient', `GET /fhir/Patient/${id}`, `PUT /fhir/Patient/${id}`, `DELETE /fhir/Patient/${id}`]);
  assert.is(fhir.requests[0].headers['content-type'], 'application/fhir+json');
});

test('conditional create sends If-None-Exist and does not duplicate; conditional update', async () => {
  const cc = (id: string): Step => ({ id, named: true, kind: 'fhir', api: 'ehr', interaction: 'conditional_create', resourceType: 'Patient', params: obj({ identifier: tpl('urn:mrn|', ref('mrn')) }), body: patientBody('CC1', 'Once'), src: src(10) });
  const r = await runSteps(
    [
      cc('first'),
      cc('second'),
      { id: 'cu', named: true, kind: 'fhir', api: 'ehr', interaction: 'conditional_update', resourceType: 'Patient', params: obj({ identifier: tpl('urn:mrn|', ref('mrn')) }), body: patientBody('CC1', 'Changed'), src: src(11) },
      { id: 'found', named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Patient', params: obj({ identifier: tpl('urn:mrn|', ref('mrn')) }), src: src(12) },
    ],
    { mrn: 'CC1' },
  );
  assert.is(r.status, 'done', r.error ?? '');
  assert.is(r.results.first.status, 201);
  assert.is(r.results.second.status, 200);
  assert.is(r.results.second.body.id, r.results.first.body.id);
  assert.is(fhir.requests[0].headers['if-none-exist'], 'identifier=urn%3Amrn%7CCC1');
  assert.equal(fhir.requests[2].query, { identifier: 'urn:mrn|CC1' });
  assert.is(r.results.found.body.total, 1);
  assert.is(r.results.found.body.entry[0].resource.name[0].family, 'Changed');
});

test('search follows next links up to maxPages and merges the pages', async () => {
  for (let i = 0; i < 7; i++) await fhir.repo.createResource({ resourceType: 'Patient', identifier: [{ system: 'urn:page', value: 'same' }], name: [{ family: `P${i}` }] } as never);
  const search = (id: string, maxPages: number): Step => ({ id, named: true, kind: 'fhir', api: 'ehr', interaction: 'search', resourceType: 'Patient', params: obj({ identifier: lit('urn:page|same'), _count: lit(2) }), maxPages, src: src(20) });
  const r = await runSteps([search('all', 10), search('two', 2), { id: 'n', named: true, kind: 'let', value: { call: 'count', args: [ref('all', 'entry')] }, src: src(21) }]);
  assert.is(r.status, 'done', r.error ?? '');
  assert.is(r.results.all.body.entry.length, 7);
  assert.is(r.results.all.body.type, 'searchset');
  assert.is(r.results.all.body.link, undefined);
  assert.equal(new Set(r.results.all.body.entry.map((e: { resource: { name: Array<{ family: string }> } }) => e.resource.name[0].family)).size, 7);
  assert.is(r.results.two.body.entry.length, 4);
  assert.is(r.results.two.body.meta.tag[0].code, 'SUBSETTED');
  assert.equal(r.results.n, { value: 7 });
  assert.is(fhir.requests.filter((q) => q.path === '/fhir/Patient').length, 4 + 2);
});

test('a read of a missing resource is a permanent error naming the line', async () => {
  const r = await runSteps([{ id: 'p', named: true, kind: 'fhir', api: 'ehr', interaction: 'read', resourceType: 'Patient', resourceId: lit('does-not-exist'), src: src(30) }]);
  assert.is(r.status, 'dead');
  assert.match(r.error!, /^flows\/admit\.hdc:30: GET ehr Patient failed: 404/);
});

test.run();
