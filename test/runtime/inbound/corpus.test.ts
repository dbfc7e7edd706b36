// Every file of the shared HL7 corpus, posted through the listener over mutual TLS, gets a
// well-formed ACK whose MSA-2 is the message's MSH-10, and lands in the journal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { request } from 'node:https';
import { decodeBody, isAck, parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { createPki, makePlan, msas, sender, startTestRuntime, workflow, type TestRuntime } from './helpers.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const corpusDir = hl7CorpusDir();
const files = readdirSync(corpusDir).filter((f) => f.endsWith('.hl7')).sort();

let rt: TestRuntime;
let partner: IssuedCertificate;
let ca: string;

test.before(async () => {
  const pki = await createPki();
  partner = await pki.client('corpus-partner');
  ca = pki.ca.cert;
  const plan = makePlan([
    // The same partner declared with the standard CR breaks: the corpus files, written with LF,
    // are each refused with an ERR naming the breaks found.
    sender({
      name: 'cr', path: '/hl7/cr', identity: { kind: 'client_cert', subject: 'CN=corpus-partner' },
      accept: [{ code: '*', trigger: '*' }], segmentBreaks: 'cr',
    }),
    sender({
      name: 'any', path: '/hl7/any', identity: { kind: 'client_cert', subject: 'CN=corpus-partner' },
      accept: [{ code: '*', trigger: '*' }], segmentBreaks: 'any',
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src: 'corpus.hdc:3:1-3:20' }],
    }),
  ], [workflow('ingest')]);
  rt = await startTestRuntime(plan, pki);
});

test.after(async () => {
  await rt.stop();
});

test(`the corpus has files (${files.length})`, () => {
  assert.ok(files.length >= 100);
});

test('corpus files written with LF, posted to a sender declared with CR: each refused AR, nothing stored', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 2, ca, cert: partner.cert, key: partner.key });
  const failures: string[] = [];
  for (const file of files.slice(0, 40)) {
    const bytes = readFileSync(join(corpusDir, file));
    const text = decodeBody(bytes).text;
    if (!text.includes('\n')) continue;
    const expected = splitBatch(text, 'any').messages.map((m) => parseMessage(m).header);
    const r = await postTo(agent, '/hl7/cr', bytes);
    const got = msas(r.text);
    if (r.status !== 200 || got.length !== expected.length) { failures.push(`${file}: HTTP ${r.status}, ${got.length} ACKs: ${r.text}`); continue; }
    expected.forEach((h, k) => {
      const want = h.acceptAckType || h.appAckType ? 'CR' : 'AR';
      if (got[k]!.code !== want || got[k]!.controlId !== h.controlId) failures.push(`${file}: MSA ${got[k]!.code}|${got[k]!.controlId}`);
    });
    if (!/segments are separated by (LF|CRLF) \(line 2, before [A-Z0-9]{3}\), but this sender accepts CR only/.test(r.text)) failures.push(`${file}: ${r.text}`);
  }
  agent.destroy();
  assert.equal(failures, []);
  assert.is((rt.db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE sender = 'cr'`).get() as { n: number }).n, 0);
});

function postTo(agent: Agent, path: string, body: Buffer) {
  return new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = request(`${rt.url}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('every corpus file gets a well-formed ACK with MSA-2 = MSH-10', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca, cert: partner.cert, key: partner.key });
  const post = (body: Buffer) => new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = request(`${rt.url}/hl7/any`, { method: 'POST', agent, headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const controlIds = new Set<string>();
  // Some corpus files reuse a control ID: an exact resend gets the first message's ACK (the resend
  // rule), so MSH-5/MSH-12 are checked only for control IDs that occur once.
  const occurrences = new Map<string, number>();
  for (const f of files) {
    for (const m of splitBatch(decodeBody(readFileSync(join(corpusDir, f))).text, 'any').messages) {
      const id = parseMessage(m).header.controlId;
      occurrences.set(id, (occurrences.get(id) ?? 0) + 1);
    }
  }
  const failures: string[] = [];
  await Promise.all([0, 1, 2, 3].map(async (lane) => {
    for (let i = lane; i < files.length; i += 4) {
      const file = files[i]!;
      const bytes = readFileSync(join(corpusDir, file));
      const { text } = decodeBody(bytes);
      const expected = splitBatch(text, 'any').messages.map((m) => parseMessage(m).header);
      const r = await post(bytes);
      if (r.status !== 200) { failures.push(`${file}: HTTP ${r.status} ${r.text}`); continue; }
      const acks = splitBatch(r.text, 'cr').messages.map((m) => parseMessage(m));
      const got = msas(r.text);
      if (got.length !== expected.length) { failures.push(`${file}: ${got.length} ACKs for ${expected.length} messages`); continue; }
      expected.forEach((h, k) => {
        const ack = acks[k]!;
        const wantCode = h.acceptAckType || h.appAckType ? 'CA' : 'AA';
        if (!isAck(ack.header)) failures.push(`${file}: the answer's MSH-9 is ${ack.header.messageCode}`);
        if (got[k]!.controlId !== h.controlId) failures.push(`${file}: MSA-2 ${got[k]!.controlId} ≠ MSH-10 ${h.controlId}`);
        if (got[k]!.code !== wantCode) failures.push(`${file}: MSA-1 ${got[k]!.code}, expected ${wantCode}: ${r.text}`);
        if (occurrences.get(h.controlId) === 1) {
          if (ack.header.version !== h.version) failures.push(`${file}: ACK MSH-12 ${ack.header.version} ≠ ${h.version}`);
          if (ack.header.receivingApplication !== h.sendingApplication) failures.push(`${file}: ACK MSH-5 is not the inbound MSH-3`);
        }
        controlIds.add(h.controlId);
      });
    }
  }));
  agent.destroy();
  assert.equal(failures, []);
  const stored = rt.db.prepare(`SELECT COUNT(DISTINCT control_id) AS n FROM messages WHERE sender = 'any'`).get() as { n: number };
  assert.is(stored.n, controlIds.size);
});

test.run();
