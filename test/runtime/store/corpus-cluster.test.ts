// The shared HL7 corpus through two runtimes on one PostgreSQL store: each file is posted to one
// runtime and, once answered, resent to the other. Every message gets an ACK naming its MSH-10,
// the resend gets the same ACK byte for byte, each message is journaled once, and every run
// (ordered by PID-3, so the per-key lock of the journal is exercised) is done exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPgRuntimes, type PgRuntimes } from './pg-runtimes.ts';
import { skipBecause } from '../../harness/skip.ts';
import { field, makePlan, msas, post, sender, workflow } from '../inbound/helpers.ts';
import { decodeBody, parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const corpusDir = hl7CorpusDir();
const files = readdirSync(corpusDir).filter((f) => f.endsWith('.hl7')).sort();
let cluster: PgRuntimes | null = null;

test.before(async () => {
  const plan = makePlan([
    sender({
      name: 'any', path: '/hl7/any', accept: [{ code: '*', trigger: '*' }], segmentBreaks: 'any', fields: [field('mrn', 'PID-3.1')],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src: 'corpus.hdc:3:1-3:20' }],
    }),
  ], [{ ...workflow('ingest'), inputs: ['mrn'], orderBy: { ref: 'mrn' } }]);
  cluster = await startPgRuntimes('corpus_cluster', plan, 2);
});

test.after(async () => {
  await cluster?.stop();
});

test('every corpus file: answered, resent to the other runtime with the same ACK, journaled and run once', async () => {
  if (!cluster) return skipBecause('no PostgreSQL server at 127.0.0.1:5432');
  const { pool, children } = cluster;
  assert.ok(files.length >= 100, `${files.length} corpus files`);
  const failures: string[] = [];
  const expectedIds = new Set<string>();
  const codes = new Map<string, number>();
  await Promise.all([0, 1, 2, 3].map(async (lane) => {
    for (let i = lane; i < files.length; i += 4) {
      const bytes = readFileSync(join(corpusDir, files[i]!));
      const headers = splitBatch(decodeBody(bytes).text, 'any').messages.map((m) => parseMessage(m).header);
      const first = await post(`${children[i % 2]!.url}/hl7/any`, bytes);
      const resend = await post(`${children[(i + 1) % 2]!.url}/hl7/any`, bytes);
      const got = msas(first.text);
      if (first.status !== 200 || got.length !== headers.length) {
        failures.push(`${files[i]}: HTTP ${first.status}, ${got.length} ACKs for ${headers.length} messages`);
        continue;
      }
      headers.forEach((h, k) => {
        if (got[k]!.controlId !== h.controlId) failures.push(`${files[i]}: MSA-2 ${got[k]!.controlId} for MSH-10 ${h.controlId}`);
        codes.set(got[k]!.code, (codes.get(got[k]!.code) ?? 0) + 1);
        if (got[k]!.code === 'AA' || got[k]!.code === 'CA') expectedIds.add(h.controlId);
      });
      if (!resend.body.equals(first.body)) failures.push(`${files[i]}: the resend to the other runtime got another ACK`);
    }
  }));
  assert.equal(failures, []);
  const accepted = (codes.get('AA') ?? 0) + (codes.get('CA') ?? 0);
  assert.ok(accepted >= 100, `${accepted} messages accepted; ACK codes ${JSON.stringify([...codes])}`);
  // Each accepted message once in the journal; every run done once; none left.
  await new Promise<void>((resolve, reject) => {
    const end = Date.now() + 60_000;
    const poll = async () => {
      const left = (await pool.query(`SELECT 1 FROM workflow_runs WHERE status <> 'done' LIMIT 1`)).rowCount;
      if (left === 0) return resolve();
      if (Date.now() > end) return reject(new Error('runs did not finish within 60 s'));
      setTimeout(() => void poll(), 100);
    };
    void poll();
  });
  const journaled = (await pool.query<{ control_id: string; n: number }>('SELECT control_id, COUNT(*)::int AS n FROM messages GROUP BY control_id')).rows;
  const count = new Map(journaled.map((r) => [r.control_id, r.n]));
  for (const id of expectedIds) assert.ok((count.get(id) ?? 0) >= 1, `${id} journaled`);
  const runs = (await pool.query<{ id: number; done: number }>(
    `SELECT r.id, (SELECT COUNT(*)::int FROM run_attempts a WHERE a.run_id = r.id AND a.status = 'done') AS done FROM workflow_runs r`)).rows;
  const messages = (await pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM messages')).rows[0]!.n;
  assert.is(runs.length, messages, 'one run per journaled message (resends start none)');
  assert.equal(runs.filter((r) => r.done !== 1).map((r) => r.id), [], 'every run done exactly once');
});

test.run();
