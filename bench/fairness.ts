// npm run bench:fairness — one partner's huge batch must not stall the others. While partner
// "big" posts a batch of 20,000 ADT^A01 messages (BHS…BTS, ~29 MB, one request), partner "other"
// keeps sending single messages one at a time on its own keep-alive mTLS connection; every one of
// its round trips is timed. Baseline in the same run: the same single messages with no batch in
// flight. Target: the other partner's slowest answer under 1 s.
//
// The runtime runs in its own process (bench/support/hl7-server.ts), the batch poster in another,
// the other partner in this one. Every answer is checked (HTTP 200, AA for each message).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adtMessage } from './ingest.ts';
import { nextMessage, startBenchServer, writeBenchPki, type BenchPki } from './support/hl7-server.ts';

const self = new URL(import.meta.url).pathname;
const BATCH = Number(process.env.BENCH_BATCH ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BASELINE_MS = Number(process.env.BENCH_BASELINE_MS ?? 3000);
/** The other partner's pause between messages: a busy partner, not a load generator. */
const GAP_MS = 5;

interface Answer { status: number; text: string }

function post(url: string, body: Buffer, tls: { cert: Buffer; key: Buffer; ca: Buffer }, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', agent, ...tls,
      headers: { 'Content-Type': 'application/hl7-v2; charset=utf-8', 'Content-Length': String(body.length) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tlsOf = (pki: BenchPki, partner: string) => {
  const f = pki.files(partner);
  return { cert: readFileSync(f.cert), key: readFileSync(f.key), ca: readFileSync(f.ca) };
};

/** ACKs that accept (AA, or CA in enhanced mode: the messages ask for it in MSH-15/16). */
function countAccepted(text: string): number {
  let n = 0;
  for (const code of ['\rMSA|AA|', '\rMSA|CA|']) for (let i = text.indexOf(code); i >= 0; i = text.indexOf(code, i + 1)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The batch poster (its own process, so its 29 MB upload shares no event loop with the timing).
async function postBatch(args: { url: string; dir: string; round: number }): Promise<void> {
  const pki: BenchPki = { dir: args.dir, files: (p) => ({ cert: join(args.dir, `${p}.crt`), key: join(args.dir, `${p}.key`), ca: join(args.dir, 'ca.crt') }) };
  const parts = ['BHS|^~\\&|ADTSYS|GENHOSP|HDC|HDCFAC|20240301101500||||BATCH-' + args.round + '\r'];
  for (let i = 0; i < BATCH; i++) parts.push(adtMessage(`B${args.round}-${i}`));
  parts.push(`BTS|${BATCH}\r`);
  const body = Buffer.from(parts.join(''), 'utf8');
  process.send!({ sending: body.length });
  const started = performance.now();
  const r = await post(args.url, body, tlsOf(pki, 'big'), false);
  const ms = performance.now() - started;
  process.send!({ done: { ms, status: r.status, accepted: countAccepted(r.text), bytes: body.length } });
}

// ---------------------------------------------------------------------------------------------
function percentile(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-fairness-'));
  let failed = 0;
  try {
    const pki = await writeBenchPki(dir, ['big', 'other']);
    const server = await startBenchServer(dir, [{ name: 'big', maxBodyBytes: 64 * 1024 * 1024 }, { name: 'other' }]);
    const otherUrl = `${server.url}/hl7/other`;
    const tls = tlsOf(pki, 'other');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...tls });
    let seq = 0;
    /** One message from the other partner, timed from request to the end of its ACK. */
    const one = async (): Promise<number> => {
      const id = `O${seq++}`;
      const t = performance.now();
      const r = await post(otherUrl, Buffer.from(adtMessage(id)), tls, agent);
      const ms = performance.now() - t;
      if (r.status !== 200 || !(r.text.includes(`\rMSA|AA|${id}`) || r.text.includes(`\rMSA|CA|${id}`))) {
        failed++;
        console.error(`other partner: unexpected answer ${r.status} ${r.text.slice(0, 120)}`);
      }
      return ms;
    };
    const pause = () => new Promise((r) => setTimeout(r, GAP_MS));
    try {
      console.log(`fairness: batch of ${BATCH} ADT^A01 from "big" while "other" sends single messages (${GAP_MS} ms apart), ${ROUNDS} rounds`);
      for (let i = 0; i < 50; i++) await one(); // warm-up
      const baseline: number[] = [];
      for (const end = performance.now() + BASELINE_MS; performance.now() < end; await pause()) baseline.push(await one());
      console.log(`baseline (no batch): ${baseline.length} messages, p50 ${round2(percentile(baseline, 50))} ms, p99 ${round2(percentile(baseline, 99))} ms, max ${round2(Math.max(...baseline))} ms`);

      const during: number[] = [];
      const batches: { ms: number; accepted: number; bytes: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const big: ChildProcess = fork(self, ['big-batch', JSON.stringify({ url: `${server.url}/hl7/big`, dir, round })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        await nextMessage<number>(big, 'sending');
        const done = nextMessage<{ ms: number; status: number; accepted: number; bytes: number }>(big, 'done');
        let finished = false;
        void done.then(() => (finished = true), () => (finished = true));
        const samples: number[] = [];
        while (!finished) {
          samples.push(await one());
          await pause();
        }
        const d = await done;
        if (d.status !== 200 || d.accepted !== BATCH) {
          failed++;
          console.error(`big batch: HTTP ${d.status}, ${d.accepted} of ${BATCH} accepted`);
        }
        batches.push(d);
        during.push(...samples);
        console.log(`round ${round + 1}: batch answered in ${Math.round(d.ms)} ms (${Math.round(BATCH / (d.ms / 1000))} msg/s); other partner ${samples.length} messages meanwhile, p99 ${round2(percentile(samples, 99))} ms, max ${round2(Math.max(...samples))} ms`);
      }
      const usage = await server.usage();
      const out = {
        bench: 'fairness',
        bigBatchMessages: BATCH,
        otherPartnerP99Ms: round2(percentile(during, 99)),
        otherPartnerMaxMs: round2(Math.max(...during)),
        otherPartnerP50Ms: round2(percentile(during, 50)),
        otherPartnerMessages: during.length,
        baselineP99Ms: round2(percentile(baseline, 99)),
        baselineMaxMs: round2(Math.max(...baseline)),
        bigBatchMs: Math.round(Math.max(...batches.map((b) => b.ms))),
        bigBatchBytes: batches[0]!.bytes,
        rounds: ROUNDS,
        serverPeakRssMb: Math.round(usage.peakRss / 1024 / 1024),
        failed,
      };
      const resultsDir = new URL('./results/', import.meta.url).pathname;
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'fairness.json'), JSON.stringify(out, null, 2) + '\n');
      console.log(JSON.stringify(out));
      if (failed || out.otherPartnerMaxMs >= 1000) process.exitCode = 1;
    } finally {
      agent.destroy();
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'big-batch') {
  await postBatch(JSON.parse(process.argv[3]!));
  process.disconnect();
} else if (process.argv[1] === self) {
  await main();
}
