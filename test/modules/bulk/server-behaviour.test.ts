// Every switch of the $export peer: the client waits as told (Retry-After in seconds or as an
// HTTP-date), backs off when not told, rides out transient status errors and a 429 kick-off,
// resumes downloads that fail or are cut (by Range, or by skipping the lines done), reads gzip,
// follows partial manifests, renews a token refused mid-export, and reports an export that
// fails, files that expired and a cancel. Counts always equal the server's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { BulkSwitches } from '../../peers/bulk-export-server.ts';
import { compileProject, drained, RECORDING_WORKFLOWS, runsPerLine, settled, startBulkPeer, startBulkRuntime, taken, type BulkPeer, type BulkRuntime } from './bulk-harness.ts';
import { exportErrors, requestCancel, type ExportRow } from '../../../modules/bulk/bulk-store.ts';
import type { AssertionAlg } from '../../peers/client-keys.ts';

const BLOCK = `
bulk nightly from ehr {
  level system
  types Patient, Encounter
  on Patient run take
  on Encounter run take
  concurrency 2
}
${RECORDING_WORKFLOWS}`;

interface Ran { peer: BulkPeer; rt: BulkRuntime; row: ExportRow; jobId: string }

/** Runs one export with the switches; `during` may act while it runs. Closes everything after `check`. */
async function exportWith(switches: BulkSwitches, check: (r: Ran) => Promise<void> | void, opts: { alg?: AssertionAlg; tokenTtlS?: number; during?: (peer: BulkPeer, rt: BulkRuntime, id: string) => void } = {}): Promise<void> {
  const peer = await startBulkPeer({ linesPerFile: 40, ...switches }, { alg: opts.alg ?? 'ES384', ...(opts.tokenTtlS ? { tokenTtlS: opts.tokenTtlS } : {}) });
  let rt: BulkRuntime | undefined;
  try {
    rt = await startBulkRuntime(compileProject(peer.declarations + BLOCK, peer.dir), join(peer.dir, 'data'));
    const id = (await rt.bulk.start('nightly'));
    opts.during?.(peer, rt, id);
    const row = await settled(rt.bulk, id, rt.runtime.db);
    await drained(rt);
    await check({ peer, rt, row, jobId: [...peer.server.jobs.keys()][0]! });
  } finally {
    await rt?.stop();
    await peer.close();
  }
}

/** The export finished and every resource ran its workflow exactly once. */
function complete({ peer, rt, row, jobId }: Ran): void {
  assert.is(row.status, 'done', row.error ?? '');
  const counts = peer.server.counts(jobId);
  assert.ok(counts.Patient && counts.Encounter);
  assert.equal(taken(rt), counts);
  const runs = runsPerLine(rt);
  assert.is(runs.runs, runs.lines);
  assert.is(runs.runs, counts.Patient! + counts.Encounter!);
}

const statusRequests = (peer: BulkPeer) => peer.server.fhir.requests.filter((r) => r.path.includes('$bulk-status') && r.method === 'GET');

test('Retry-After as an HTTP-date is waited for', () => exportWith({ retryAfter: 'http-date', retryAfterSeconds: 2, pollsBeforeReady: 1 }, (r) => {
  complete(r);
  const polls = statusRequests(r.peer);
  assert.ok(polls.length >= 2);
  // The date has whole seconds: "in 2 s" is between 1 and 2 s away.
  assert.ok(polls[1]!.at - polls[0]!.at >= 900, `waited ${polls[1]!.at - polls[0]!.at} ms`);
}));

test('Retry-After in seconds is waited for; X-Progress is recorded', () => exportWith({ retryAfter: 'seconds', retryAfterSeconds: 1, pollsBeforeReady: 1 }, (r) => {
  complete(r);
  const polls = statusRequests(r.peer);
  assert.ok(polls[1]!.at - polls[0]!.at >= 950, `waited ${polls[1]!.at - polls[0]!.at} ms`);
  assert.is(r.row.progress, '30% done');
}));

test('without Retry-After the client backs off exponentially', () => exportWith({ retryAfter: 'none', pollsBeforeReady: 4 }, (r) => {
  complete(r);
  const at = statusRequests(r.peer).map((p) => p.at);
  // pollBaseMs 20 in the tests: waits of at least 20, 40, 80, 160 ms.
  for (let i = 1; i < 5; i++) assert.ok(at[i]! - at[i - 1]! >= 20 * 2 ** (i - 1) - 2, `wait ${i}: ${at[i]! - at[i - 1]!} ms`);
}));

test('transient status errors (503 with a transient OperationOutcome) are not failures', () => exportWith({ transientPollErrors: 3 }, (r) => {
  complete(r);
  assert.is(r.peer.server.fhir.requests.filter((q) => q.path.includes('$bulk-status') && q.status === 503).length, 3);
}));

test('a 429 on kick-off waits and kicks off again', () => exportWith({ kickoff429: 2 }, (r) => {
  complete(r);
  assert.is(r.peer.server.fhir.requests.filter((q) => q.path.endsWith('/$export')).length, 3);
}));

test('a download that fails (HTTP 500) is tried again', () => exportWith({ failDownloads: 2 }, (r) => {
  complete(r);
  assert.ok(r.peer.server.fhir.requests.some((q) => q.path.includes('$bulk-file') && q.status === 500));
}));

test('a download cut mid-stream resumes with Range after the last line handed on', () => exportWith({ cutAfterLines: 15 }, (r) => {
  complete(r);
  const ranged = r.peer.server.fhir.requests.filter((q) => q.path.includes('$bulk-file') && q.headers.range);
  assert.ok(ranged.length >= 1, 'Range requests');
  assert.ok(ranged.every((q) => /^bytes=[1-9]\d*-$/.test(String(q.headers.range))));
}));

test('without Range support a cut file is downloaded again and the lines done are skipped', () => exportWith({ cutAfterLines: 15, range: false }, complete));

test('gzip-encoded files are read, and a cut gzip download is read again whole', () => exportWith({ gzip: true, cutAfterLines: 1 }, (r) => {
  complete(r);
  assert.ok(r.peer.server.fhir.requests.some((q) => q.path.includes('$bulk-file') && /gzip/.test(String(q.headers['accept-encoding']))));
}));

test('partial manifests are followed (link next)', () => exportWith({ filesPerPage: 1 }, (r) => {
  complete(r);
  assert.ok(r.peer.server.fhir.requests.filter((q) => q.path.includes('/page/')).length >= 2);
}));

test('a token that expires mid-download is refused (401), renewed, and the request asked again', () => {
  let expired = false;
  return exportWith({ linesPerFile: 10, throttle: { lines: 1, pauseMs: 5 } }, (r) => {
    complete(r);
    assert.ok(expired);
    assert.ok(r.peer.server.fhir.requests.some((q) => q.status === 401), 'a request was refused');
    assert.ok(r.peer.auth.tokenRequests >= 2, 'a new token was asked for');
  }, {
    alg: 'RS384',
    during: (peer) => peer.server.events.on('line-served', (_job: string, file: number, lines: number) => {
      if (expired || file !== 1 || lines < 5) return;
      expired = true;
      peer.expireTokens();
    }),
  });
});

test('short-lived tokens (2 s) are renewed during a long export', () => exportWith({ linesPerFile: 10, throttle: { lines: 1, pauseMs: 80 } }, (r) => {
  complete(r);
  assert.ok(r.peer.auth.tokenRequests >= 2, `${r.peer.auth.tokenRequests} token requests`);
}, { tokenTtlS: 2 }));

test('an export that fails is reported with the .hdc line and the server\'s words', () => exportWith({ failExport: true }, ({ row }) => {
  assert.is(row.status, 'failed');
  assert.match(row.error ?? '', /bulk\.hdc:\d+ \(bulk nightly\): the export failed \(HTTP 500: the export could not be completed\)/);
}));

test('files that expired are error records; the export ends failed', () => exportWith({ expireFiles: true }, async ({ rt, row }) => {
  assert.is(row.status, 'failed');
  assert.match(row.error ?? '', /files could not be read \(HTTP 410/);
  assert.ok((await exportErrors(rt.runtime.sql, row.id)).some((e) => /expired/.test(e.reason)));
}));

test('hdc bulk cancel sends DELETE to the status URL and ends the export cancelled', () => {
  let cancelled = '';
  return exportWith({ pollsBeforeReady: 1_000_000, retryAfter: 'none' }, ({ row }) => {
    assert.is(row.status, 'cancelled');
    assert.ok(cancelled, 'the server saw DELETE');
  }, {
    during: (peer, rt) => {
      peer.server.events.on('cancelled', (id: string) => void (cancelled = id));
      peer.server.events.once('status', () => void requestCancel(rt.runtime.sql, 'nightly'));
    },
  });
});

test.run();
