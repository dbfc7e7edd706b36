// A whole export against the $export peer (Synthea data, Backend Services auth): each resource
// runs its type's workflow once, the counts equal the server's, and the levels, parameters and
// manifest parts (error[], deleted[], bad lines) do what the IG says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { repoRoot } from '../../runtime/inbound/child-runtime.ts';
import { join } from 'node:path';
import { compileProject, drained, FAST, FORGET_WORKFLOW, RECORDING_WORKFLOWS, runsPerLine, settled, startBulkPeer, startBulkRuntime, taken } from './bulk-harness.ts';
import type { BulkPeer } from './bulk-harness.ts';
import { exportErrors } from '../../../modules/bulk/bulk-store.ts';
import type { BulkExportEvent } from '../../../runtime/platform/module-events.ts';

const compileOrClose = (peer: BulkPeer, text: string, dir: string) => {
  try {
    return compileProject(text, dir);
  } catch (err) {
    void peer.close();
    throw err;
  }
};

test('with the writer thread (SQLite), batches commit there and each resource still runs once', async () => {
  const peer = await startBulkPeer({ linesPerFile: 60 });
  const plan = compileOrClose(peer, `${peer.declarations}
bulk nightly from ehr {
  level system
  types Patient, Encounter
  on Patient run take
  on Encounter run take
  concurrency 2
}
${RECORDING_WORKFLOWS}`, peer.dir);
  const rt = await startBulkRuntime(plan, join(peer.dir, 'data'), { ...FAST, writer: 'thread' }).catch(async (err) => { await peer.close(); throw err; });
  try {
    const row = await settled(rt.bulk, await rt.bulk.start('nightly'), rt.runtime.db);
    assert.is(row.status, 'done', row.error ?? '');
    await drained(rt);
    const counts = peer.server.counts([...peer.server.jobs.keys()][0]!);
    assert.equal(taken(rt), counts);
    const runs = runsPerLine(rt);
    assert.is(runs.runs, runs.lines);
    assert.is(runs.runs, Object.values(counts).reduce((a, b) => a + b, 0));
  } finally {
    await rt.stop();
    await peer.close();
  }
});

test('a system-level export runs each resource\'s workflow once; counts equal the server\'s', async () => {
  const peer = await startBulkPeer({ linesPerFile: 150, retryAfter: 'seconds' }, { alg: 'RS384' });
  const plan = compileOrClose(peer, `${peer.declarations}
bulk nightly from ehr {
  level system
  types Patient, Encounter, Observation
  on Patient run take
  on Encounter run take
  on Observation run take
  store ndjson "exports/{date}"
  concurrency 3
}
${RECORDING_WORKFLOWS}`, peer.dir);
  const rt = await startBulkRuntime(plan, join(peer.dir, 'data')).catch(async (err) => { await peer.close(); throw err; });
  try {
    const announced: BulkExportEvent[] = [];
    rt.runtime.moduleEvents.on('bulk-export', (e) => announced.push(e));
    const id = (await rt.bulk.start('nightly'));
    const row = await settled(rt.bulk, id, rt.runtime.db);
    assert.is(row.status, 'done', row.error ?? '');
    const job = [...peer.server.jobs.values()][0]!;
    assert.equal(job.params._type, ['Patient,Encounter,Observation']);
    // Announced to the other modules as it went: names and counts, ending with the totals.
    assert.equal([...new Set(announced.map((e) => e.status))], ['polling', 'downloading', 'done']);
    assert.equal(announced.at(-1), { block: 'nightly', export: id, status: 'done', files: row.files, filesDone: row.files, resources: row.resources, bytes: row.bytes, errors: 0, startedAt: row.created_at, endedAt: row.finished_at });
    const counts = peer.server.counts(job.id);
    assert.ok(counts.Observation! > 150, 'several Observation files');
    await drained(rt);
    assert.equal(taken(rt), counts);
    const runs = runsPerLine(rt);
    assert.is(runs.runs, runs.lines);
    assert.is(row.resources, Object.values(counts).reduce((a, b) => a + b, 0));
    assert.ok(job.deleted, 'the client told the server it is done (DELETE)');
    // The files are kept, one per manifest entry, each line a resource.
    const kept = join(peer.dir, 'data', 'exports', new Date(row.created_at).toISOString().slice(0, 10), id);
    const files = readdirSync(kept);
    assert.is(files.length, job.files.length);
    const lines = files.reduce((n, f) => n + readFileSync(join(kept, f), 'utf8').split('\n').filter(Boolean).length, 0);
    assert.is(lines, row.resources);
    // The token endpoint was asked with a signed assertion, not on every request.
    assert.ok(peer.auth.tokenRequests >= 1 && peer.auth.tokenRequests <= 2);
  } finally {
    await rt.stop();
    await peer.close();
  }
});

test('group level with POST kick-off, _typeFilter, _since and patient; error[] and deleted[] files; bad lines are error records', async () => {
  const peer = await startBulkPeer({ errorOutcomes: 2, deleted: ['Patient/gone-1', 'Observation/gone-2'], badLines: true }, { alg: 'ES384' });
  const patients = await peer.server.fhir.repo.searchResources({ resourceType: 'Patient', count: 3 });
  await peer.server.fhir.repo.createResource({ resourceType: 'Group', id: 'g-1', type: 'person', actual: true, member: patients.map((p) => ({ entity: { reference: `Patient/${p.id}` } })) } as never);
  const group = await peer.server.fhir.repo.searchResources({ resourceType: 'Group' });
  const plan = compileOrClose(peer, `${peer.declarations}
bulk cohort from ehr {
  level group "${group[0]!.id}"
  kickoff post
  types Patient, Observation
  type_filter "Observation?category=laboratory"
  since "2000-01-01T00:00:00Z"
  patient "Patient/${patients[0]!.id}", "Patient/${patients[1]!.id}"
  on Patient run take
  on Observation run take
  on deleted run forget
}
${RECORDING_WORKFLOWS}${FORGET_WORKFLOW}`, peer.dir);
  const rt = await startBulkRuntime(plan, join(peer.dir, 'data')).catch(async (err) => { await peer.close(); throw err; });
  try {
    const id = (await rt.bulk.start('cohort'));
    const row = await settled(rt.bulk, id, rt.runtime.db);
    assert.is(row.status, 'done', row.error ?? '');
    const job = [...peer.server.jobs.values()][0]!;
    assert.is(job.level, `group:${group[0]!.id}`);
    assert.equal(job.params._typeFilter, ['Observation?category=laboratory']);
    assert.equal(job.params._since, ['2000-01-01T00:00:00Z']);
    assert.is(job.params.patient?.length, 2);
    const counts = peer.server.counts(job.id);
    assert.is(counts.Patient, 2);
    await drained(rt);
    assert.equal(taken(rt), counts);
    assert.equal(Object.keys(taken(rt, 'forgotten')).length, 2);
    const errors = (await exportErrors(rt.runtime.sql, id)).map((e) => e.reason);
    assert.ok(errors.some((e) => e === 'line 2 is not JSON'), errors.join('\n'));
    assert.ok(errors.some((e) => e === 'line 3 is a Basic, not a Patient'), errors.join('\n'));
    assert.is(errors.filter((e) => e.startsWith('the server reported: resource')).length, 2);
    assert.is(row.errors, 4);
  } finally {
    await rt.stop();
    await peer.close();
  }
});

test('hdc bulk list and status read the exports of a data directory', async () => {
  const peer = await startBulkPeer({ errorOutcomes: 1 });
  const plan = compileOrClose(peer, `${peer.declarations}
bulk listed from ehr {
  level system
  types Patient
  on Patient run take
}
${RECORDING_WORKFLOWS}`, peer.dir);
  const rt = await startBulkRuntime(plan, join(peer.dir, 'data')).catch(async (err) => { await peer.close(); throw err; });
  try {
    const id = (await rt.bulk.start('listed'));
    assert.is((await settled(rt.bulk, id, rt.runtime.db)).status, 'done');
    const hdc = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin/hdc.js'), 'bulk', ...args, '--data', join(peer.dir, 'data')], { env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' });
    const list = hdc('list');
    assert.is(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id}  done +\\S+  resources 8  files 2/2  errors 1$`, 'm'));
    const status = hdc('status', 'listed');
    assert.match(status.stdout, /listed \S+ done files 2\/2  resources 8\/8/);
    assert.match(status.stdout, /file 1 line 1: the server reported: resource 0 could not be exported/);
    const cancel = hdc('cancel', 'listed');
    assert.is(cancel.status, 1);
    assert.match(cancel.stderr, /no running export of listed/);
    // A name the running plan has no block for fails at once instead of waiting.
    // (Not spawnSync: the runtime answering it runs in this process.)
    const unknown = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin/hdc.js'), 'bulk', 'start', 'nightly', '--data', join(peer.dir, 'data')], { env: { ...process.env, HDC_DEV: '1' } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (status) => resolve({ status, stderr }));
    });
    assert.is(unknown.status, 1);
    assert.match(unknown.stderr, /no bulk block named nightly in the running plan \(blocks: listed\)/);
  } finally {
    await rt.stop();
    await peer.close();
  }
});

test('since last_success sends the previous export\'s transactionTime', async () => {
  const peer = await startBulkPeer({ pollsBeforeReady: 0 });
  const plan = compileOrClose(peer, `${peer.declarations}
bulk daily from ehr {
  level patient
  types Patient
  since last_success
  on Patient run take
}
${RECORDING_WORKFLOWS}`, peer.dir);
  const rt = await startBulkRuntime(plan, join(peer.dir, 'data')).catch(async (err) => { await peer.close(); throw err; });
  try {
    const first = await settled(rt.bulk, (await rt.bulk.start('daily')), rt.runtime.db);
    assert.is(first.status, 'done');
    assert.is([...peer.server.jobs.values()][0]!.params._since, undefined);
    const second = await settled(rt.bulk, (await rt.bulk.start('daily')), rt.runtime.db);
    assert.is(second.status, 'done');
    assert.equal([...peer.server.jobs.values()][1]!.params._since, [first.transaction_time]);
    assert.ok(!existsSync(join(peer.dir, 'data', 'exports')), 'nothing kept without store');
  } finally {
    await rt.stop();
    await peer.close();
  }
});

test.run();
