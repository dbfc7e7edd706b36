// Thousands of mutated messages (deterministic seed) through the listener: the process never
// crashes and every request gets either an HL7 ACK (HTTP 200) or a 4xx — never a 5xx or a hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { parseMessage, splitBatch } from '../../../runtime/inbound/hl7/index.ts';
import { adt, createPki, field, makePlan, msas, sender, startTestRuntime, workflow, type TestRuntime } from './helpers.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';
import { hl7CorpusDir } from '../../corpus.ts';

const SEED = 0x5eed2024;
const COUNT = 3000;

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const corpusDir = hl7CorpusDir();
const seeds: Buffer[] = [
  ...readdirSync(corpusDir).sort().slice(0, 40).map((f) => readFileSync(join(corpusDir, f))),
  Buffer.from(adt({ controlId: 'SEED-1' })),
  Buffer.from('BHS|^~\\&|A|B|C|D|20240101||||B1\r' + adt({ controlId: 'SEED-2' }) + adt({ controlId: 'SEED-3' }) + 'BTS|2\r'),
  Buffer.from(adt({ controlId: 'SEED-4', version: '2.3', msh15: 'AL', msh16: 'ER' })),
];
const SPECIAL = ['|', '^', '~', '\\', '&', '#', '\r', '\n', '\r\n', '""', 'MSH', 'MSH|^~\\&|', '\\X00\\', '\\E\\', '\u00ff', '\u0000', '\ufffd', 'ACK', 'BHS|', 'FHS|', 'BTS|9'];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    const pick = rnd();
    if (pick < 0.2) {
      b[at] = Math.floor(rnd() * 256); // flip a byte
    } else if (pick < 0.35) {
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 40)))]); // delete a run
    } else if (pick < 0.6) {
      const s = SPECIAL[Math.floor(rnd() * SPECIAL.length)]!;
      b = Buffer.concat([b.subarray(0, at), Buffer.from(s, rnd() < 0.5 ? 'utf8' : 'latin1'), b.subarray(at)]); // insert a delimiter
    } else if (pick < 0.7) {
      b = b.subarray(0, at); // truncate
    } else if (pick < 0.8) {
      const len = Math.floor(rnd() * 64);
      const from = Math.floor(rnd() * Math.max(1, b.length - len));
      b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]); // duplicate a slice
    } else if (pick < 0.9) {
      // Change an MSH field: type, version, control ID, encoding characters.
      const text = b.toString('latin1');
      const segs = text.split('|');
      const i = [2, 9, 10, 11, 12, 15, 16, 18][Math.floor(rnd() * 8)]!;
      if (segs.length > i) segs[i] = ['', 'ACK', 'ADT^A01', '2.1', '2.9', 'X', 'AL', 'NE', '8859/1', 'UNICODE UTF-8', 'KLINGON', '^~\\&#', '^^^^'][Math.floor(rnd() * 13)]!;
      b = Buffer.from(segs.join('|'), 'latin1');
    } else {
      b = Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(rnd() * 30) }, () => Math.floor(rnd() * 256)))]); // random tail
    }
  }
  return b;
}

let rt: TestRuntime;
let partner: IssuedCertificate;
let ca: string;

test.before(async () => {
  const pki = await createPki();
  partner = await pki.client('fuzzer');
  ca = pki.ca.cert;
  const plan = makePlan([
    sender({
      name: 'fuzz', path: '/hl7/fuzz', identity: { kind: 'client_cert', subject: 'CN=fuzzer' },
      accept: [{ code: 'ADT', trigger: '*' }, { code: 'ORU', trigger: 'R01' }, { code: 'VXU', trigger: '*' }],
      fields: [field('mrn', 'PID-3.1'), field('family', 'PID-5.1'), field('birth', 'PID-7', { as: 'date', type: 'date' }), field('results', 'OBX[*]-5', { type: 'list' })],
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'w', src: 'fuzz.hdc:1:1-1:2' }],
    }),
  ], [workflow('w')]);
  rt = await startTestRuntime(plan, pki);
});

test.after(async () => {
  await rt.stop();
});

test(`${COUNT} mutated messages: always an ACK (200) or a 4xx`, async () => {
  const rnd = mulberry32(SEED);
  const bodies = Array.from({ length: COUNT }, () => mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd));
  const types = ['application/hl7-v2', 'text/plain', 'x-application/hl7-v2+er7; charset=iso-8859-1', 'application/hl7-v2; charset=utf-8'];
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca, cert: partner.cert, key: partner.key });
  const counts: Record<string, number> = {};
  const problems: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < bodies.length) {
      const i = next++;
      const body = bodies[i]!;
      const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${rt.url}/hl7/fuzz`, { method: 'POST', agent, headers: { 'Content-Type': types[i % types.length]!, 'Content-Length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          const latin1 = /charset=iso-8859-1/i.test(String(res.headers['content-type']));
          res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(latin1 ? 'latin1' : 'utf8') }));
        });
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error(`request ${i} timed out`)));
        req.end(body);
      });
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if (r.status === 200) {
        const found = msas(r.text);
        if (found.length === 0) problems.push(`#${i}: 200 without MSA`);
        try {
          for (const m of splitBatch(r.text, 'cr').messages) parseMessage(m);
        } catch (err) {
          problems.push(`#${i}: unparseable ACK (${(err as Error).message})`);
        }
      } else if (r.status < 400 || r.status >= 500) {
        problems.push(`#${i}: HTTP ${r.status} ${r.text.slice(0, 100)}`);
      }
    }
  }));
  agent.destroy();
  assert.equal(problems.slice(0, 10), []);
  assert.ok((counts[200] ?? 0) > COUNT / 3, `most mutations are still HL7: ${JSON.stringify(counts)}`);
  assert.ok(Object.keys(counts).some((s) => s.startsWith('4')), `some are refused: ${JSON.stringify(counts)}`);
  // Still alive and ready.
  const ready = await new Promise<number>((resolve, reject) => request(`${rt.url}/ready`, { ca, agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end());
  assert.is(ready, 200);
});

test.run();
