// Resume after a crash: `hdc run` is killed (SIGKILL) in the middle of a download and started
// again on the same data directory. The export continues from the database: files done are not
// downloaded again, the file being read resumes after its last line handed on (HTTP Range), no
// resource is queued twice, none is missing, and the counts equal the server's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startChild, repoRoot, type ChildRuntime } from '../../runtime/inbound/child-runtime.ts';
import { compileProject, drained, RECORDING_WORKFLOWS, runsPerLine, startBulkPeer, startBulkRuntime, taken } from './bulk-harness.ts';
import type { ExportRow, FileRow } from '../../../modules/bulk/bulk-store.ts';

/** Resolves once `ready()` holds, checked on each of the peer's events and every 50 ms meanwhile. */
function until<T>(ready: () => T | undefined, events: NodeJS.EventEmitter, what: string, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      let v: T | undefined;
      try {
        v = ready();
      } catch {
        // the database is being created by the child
      }
      if (v === undefined) return;
      cleanup();
      resolve(v);
    };
    const timer = setInterval(check, 50);
    const deadline = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const cleanup = () => { clearInterval(timer); clearTimeout(deadline); events.off('line-served', check); };
    events.on('line-served', check);
    check();
  });
}

test('SIGKILL mid-download, restart: every resource handed on exactly once, counts equal the server\'s', async () => {
  // Slow files of 30 lines: the kill lands inside a file with some files done and some not begun.
  const peer = await startBulkPeer({ linesPerFile: 30, throttle: { lines: 2, pauseMs: 30 } });
  const project = join(peer.dir, 'project');
  const data = join(peer.dir, 'data');
  mkdirSync(project);
  const text = `${peer.declarations}
bulk nightly from ehr {
  level system
  types Patient, Encounter, Condition
  on Patient run take
  on Encounter run take
  on Condition run take
  concurrency 2
}
${RECORDING_WORKFLOWS}`;
  writeFileSync(join(project, 'bulk.hdc'), text);
  const args = [join(project, 'bulk.hdc'), '--data', data, '--insecure-http', '--port', '0'];
  let child: ChildRuntime | undefined;
  try {
    child = await startChild(args);
    const started = spawnSync(process.execPath, [repoRoot + 'bin/hdc.js', 'bulk', 'start', 'nightly', '--detach', '--data', data], { env: { ...process.env, HDC_DEV: '1' }, encoding: 'utf8' });
    assert.is(started.status, 0, started.stderr);
    const id = /export (\S+) requested/.exec(started.stdout)![1]!;

    const db = new Database(join(data, 'hdc.sqlite'), { readonly: true });
    const files = () => db.prepare('SELECT * FROM bulk_files WHERE export_id = ? ORDER BY idx').all(id) as FileRow[];
    // Kill once a file is done and another is partly handed on.
    const before = await until(() => {
      const f = files();
      return f.some((x) => x.status === 'done') && f.some((x) => x.status === 'pending' && x.lines > 0) ? f : undefined;
    }, peer.server.events, 'a file done and one partly read');
    child.child.kill('SIGKILL');
    await child.exited;
    const requestsBefore = peer.server.fhir.requests.length;

    child = await startChild(args);
    const row = await until(() => {
      const r = db.prepare('SELECT * FROM bulk_exports WHERE id = ?').get(id) as ExportRow;
      return ['done', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    }, peer.server.events, 'the export to finish');
    assert.is(row.status, 'done', row.error ?? '');
    child.child.kill('SIGTERM');
    await child.exited;
    db.close();

    // Files done before the kill were not asked for again; the partly read one resumed by Range.
    const after = peer.server.fhir.requests.slice(requestsBefore).filter((r) => r.path.includes('$bulk-file'));
    for (const f of before.filter((x) => x.status === 'done')) assert.not.ok(after.some((r) => r.path.endsWith(`/${f.idx}`)), `file ${f.idx} fetched again`);
    const partly = before.filter((x) => x.status === 'pending' && x.lines > 0);
    for (const f of partly) {
      const again = after.find((r) => r.path.endsWith(`/${f.idx}`));
      assert.ok(again, `file ${f.idx} resumed`);
      assert.match(String(again!.headers.range), /^bytes=[1-9]\d*-$/);
    }
    assert.is(peer.server.fhir.requests.filter((r) => r.path.endsWith('/$export')).length, 1, 'one kick-off');

    // Every line queued once; the runs left are finished here, and each resource was taken once.
    const rt = await startBulkRuntime(compileProject(text, project), data);
    try {
      await drained(rt);
      const runs = runsPerLine(rt);
      const counts = peer.server.counts([...peer.server.jobs.keys()][0]!);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      assert.is(runs.lines, total);
      assert.is(runs.runs, total, 'no line queued twice');
      assert.equal(taken(rt), counts);
      assert.is((rt.runtime.db.prepare('SELECT resources FROM bulk_exports WHERE id = ?').get(id) as { resources: number }).resources, total);
    } finally {
      await rt.stop();
    }
  } finally {
    if (child && child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGKILL');
      await child.exited;
    }
    await peer.close();
  }
});

test.run();
