// Runs a plan's `test` blocks. Each test gets a fresh data directory and an in-process runtime:
// the fixture's bytes are POSTed as they are over loopback HTTP to the real listener (decoding,
// line endings, sender matching, mapping, journal, ACK: nothing is rewritten first, so a fixture
// the listener would misread in production fails here too), the real engine runs the workflows
// with HTTP answered by the test's mocks, and the expectations are checked against the ACK, the
// fields the listener mapped, the requests made (bodies as sent) and the stored records.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Expectation, FieldMapping, Plan, TestCase } from '../../plan/plan.types.ts';
import type { AuthProvider } from '../workflows/auth/auth-provider.ts';
import { srcLine } from '../platform/config/source-location.ts';
import { Engine } from '../workflows/engine.ts';
import { evaluate } from '../workflows/expr/evaluate.ts';
import { truthy } from '../workflows/expr/values.ts';
import { parseMessage, splitBatch, unescapeHl7, type Hl7Message } from '../inbound/hl7/index.ts';
import { RunEvents } from '../journal/run-events.ts';
import { silentLogger } from '../platform/log/logger.ts';
import { mapFields, type MappingOptions } from '../inbound/map-fields.ts';
import { orderKeyFor } from '../inbound/order-key.ts';
import { startRuntime } from '../platform/start-runtime.ts';
import { describeCall, MockTransport, type RecordedCall } from './mock-transport.ts';
import { runLaunchTest } from './launch-test.ts';
import { prepareTestPlan, testSenderPath } from './test-plan.ts';

export interface TestFailure {
  /** FILE:LINE of the expectation (or the test). */
  at: string;
  message: string;
}

export interface TestResult {
  name: string;
  file: string;
  at: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  failures: TestFailure[];
  reason?: string;
}

export interface RunTestsOptions {
  /** Folder fixture paths are relative to (the plan's working directory). Default: cwd. */
  workDir?: string;
  /** Only tests whose name contains this. */
  filter?: string;
  /** Longest wait for a test's workflows to settle. Default 30 s. */
  timeoutMs?: number;
}

const stubAuth: AuthProvider = { authorization: async () => 'Bearer hdc-test-token', refresh: async () => false };

export async function runPlanTests(plan: Plan, opts: RunTestsOptions = {}): Promise<TestResult[]> {
  const workDir = resolve(opts.workDir ?? process.cwd());
  const testPlan = prepareTestPlan(plan, workDir);
  const results: TestResult[] = [];
  for (const tc of plan.tests) {
    if (opts.filter && !tc.name.includes(opts.filter)) continue;
    results.push(await runOne(testPlan, tc, workDir, opts.timeoutMs ?? 30_000));
  }
  return results;
}

async function runOne(plan: Plan, tc: TestCase, workDir: string, timeoutMs: number): Promise<TestResult> {
  const at = srcLine(tc.src);
  const base = { name: tc.name, file: at.replace(/:\d+$/, ''), at };
  if (tc.launch) return runLaunchTest(plan, tc, workDir);
  if (!tc.send) return { ...base, status: 'skipped', ms: 0, failures: [], reason: 'a test needs send or launch' };
  const started = performance.now();
  const failures: TestFailure[] = [];
  const fail = (src: string | undefined, message: string) => failures.push({ at: srcLine(src ?? tc.src), message });
  const dir = mkdtempSync(join(tmpdir(), 'hdc-test-'));
  const events = new RunEvents();
  const transport = new MockTransport(tc.mocks, workDir, new Map(plan.apis.map((a) => [a.name, { kind: a.kind, format: a.format }])));
  // The fields are the ones the listener mapped, seen on their way to the journal.
  let mapped: Record<string, unknown> | undefined;
  const listenerMapping = (msg: Hl7Message, fields: FieldMapping[], opts: MappingOptions) => (mapped ??= mapFields(msg, fields, opts));
  const runtime = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls: null, dataDir: dir, maxBodyBytes: 16 << 20, requestTimeoutMs: timeoutMs, shutdownTimeoutMs: 1000,
    logPhi: false, log: silentLogger(), mapFields: listenerMapping, orderKeyFor, events, journalThread: 'inline',
  });
  const engine = new Engine({
    db: runtime.db,
    plan,
    events,
    transport,
    auths: new Map(plan.auths.map((a) => [a.name, stubAuth])),
    // Mocks answer at once: no waiting between retries, and no run-level retry later.
    client: { sleep: async () => {}, maxRetryAfterMs: 0 },
    maxAttempts: 1,
    // One short-lived engine per test: no writer thread to start.
    writer: 'inline',
  });
  engine.start();
  runtime.addService({ stop: () => engine.stop() });
  runtime.attachEngine(engine);
  try {
    const sender = plan.senders.find((s) => s.name === tc.send!.sender);
    if (!sender) {
      fail(tc.send.src, `no sender named ${tc.send.sender}`);
      return { ...base, status: 'failed', ms: performance.now() - started, failures };
    }
    const fixture = fixtureBody(tc.send.message, workDir);
    const ack = await post(runtime.url + testSenderPath(sender.name), fixture, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([engine.idle(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);

    const runs = runtime.db.prepare('SELECT id, workflow, status, input, error FROM workflow_runs ORDER BY id').all() as Array<{ id: number; workflow: string; status: string; input: string | null; error: string | null }>;
    const fields = runs[0]?.input ? (JSON.parse(runs[0].input).fields as Record<string, unknown>) : (mapped ?? {});
    const expectsFailure = tc.expects.some((e) => e.kind === 'ack' && e.code !== undefined && !['AA', 'CA'].includes(e.code));
    for (const e of tc.expects) check(e, { ack, fields, calls: transport.calls, records: (c) => engine.store.records(c).map((r) => r.value) }, fail);
    if (!expectsFailure) for (const r of runs) if (r.status === 'dead') fail(tc.src, `workflow ${r.workflow} failed: ${r.error}`);
    for (const r of runs) if (r.status === 'queued' || r.status === 'running' || r.status === 'failed') fail(tc.src, `workflow ${r.workflow} did not finish (${r.status})`);
    // The likely cause first: a fixture whose line endings the sender does not accept.
    const hint = failures.length ? lineEndingHint(fixture.bytes, sender) : undefined;
    if (hint) failures.unshift({ at: srcLine(tc.send.src), message: hint });
  } catch (err) {
    fail(tc.src, (err as Error).message);
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { ...base, status: failures.length ? 'failed' : 'passed', ms: Math.round(performance.now() - started), failures };
}

interface Observed {
  ack: string;
  fields: Record<string, unknown>;
  calls: RecordedCall[];
  records(collection: string): unknown[];
}

function check(e: Expectation, o: Observed, fail: (src: string | undefined, message: string) => void): void {
  const holds = (vars: Record<string, unknown>) => (e.cond ? truthy(evaluate(e.cond, { vars })) : true);
  switch (e.kind) {
    case 'ack': {
      const { code, texts } = readAck(o.ack);
      if (e.code && code !== e.code) fail(e.src, `expected ACK ${e.code}, got ${code ?? 'no ACK'}${texts.length ? ` (${texts.join(' / ')})` : ''}`);
      if (e.text && !texts.some((t) => t.includes(e.text!))) fail(e.src, `expected the ACK to say "${e.text}", it says ${texts.length ? `"${texts.join(' / ')}"` : 'nothing'}`);
      return;
    }
    case 'field': {
      const value = o.fields[e.name!] ?? null;
      if (e.cond ? !holds({ ...o.fields, value }) : value === null) fail(e.src, `field ${e.name} is ${JSON.stringify(value)}`);
      return;
    }
    case 'request':
    case 'no_request': {
      const norm = (p: string) => '/' + p.replace(/^\/+/, '').replace(/\/+$/, '');
      const matching = o.calls.filter(
        (c) => c.api === e.api && (!e.method || c.method === e.method) && (!e.urlPath || c.path === norm(e.urlPath)),
      );
      const satisfying = matching.filter((c) => holds({ request: c, ...c }));
      const what = `${e.api} ${e.method ?? ''} ${e.urlPath ?? ''}`.replace(/\s+/g, ' ').trim();
      if (e.kind === 'request' && satisfying.length === 0) {
        const head = matching.length ? `${matching.length} request(s) to ${what} were made, none where the condition holds` : `no request to ${what}`;
        // The requests made, bodies as sent, so the difference can be seen without a debugger.
        const made = (matching.length ? matching : o.calls).map(describeCall);
        fail(e.src, `${head}; ${matching.length ? 'they were' : 'requests made'}:${made.length ? made.map((m) => `\n${m}`).join('') : ' none'}`);
      }
      if (e.kind === 'no_request' && satisfying.length > 0) fail(e.src, `expected no request to ${what}, got ${satisfying.length}`);
      return;
    }
    case 'stored': {
      const records = o.records(e.name!);
      if (e.cond ? !holds({ records }) : records.length === 0) fail(e.src, `stored "${e.name}" has ${records.length} record(s)${records.length ? `: ${JSON.stringify(records).slice(0, 200)}` : ''}`);
      return;
    }
    case 'redirect':
      fail(e.src, 'redirect expectations belong to launch tests');
      return;
  }
}

function readAck(ack: string): { code?: string; texts: string[] } {
  try {
    const msg = parseMessage(splitBatch(ack, 'any').messages[0] ?? ack);
    const texts: string[] = [];
    let code: string | undefined;
    for (const seg of ack.split(/\r\n|\r|\n/)) {
      if (!seg.startsWith('MSA') && !seg.startsWith('ERR')) continue;
      const parts = seg.split(msg.delimiters.field);
      if (seg.startsWith('MSA')) {
        code = parts[1];
        if (parts[3]) texts.push(unescapeHl7(parts[3], msg.delimiters));
      } else texts.push(unescapeHl7(parts.slice(1).join(' '), msg.delimiters));
    }
    return { code, texts };
  } catch {
    return { texts: [ack.trim()] };
  }
}

/** The bytes a test sends, and the Content-Type they go with. */
interface FixtureBody {
  bytes: Buffer;
  contentType: string;
}

/**
 * A file is sent as its bytes with no charset named, as a partner that names none: the listener
 * decodes it as it would in production (the sender's charset, MSH-18, or its default). Inline
 * text is a string, sent as UTF-8 and labelled so.
 */
function fixtureBody(f: NonNullable<TestCase['send']>['message'], workDir: string): FixtureBody {
  if (f.file !== undefined) return { bytes: readFileSync(resolve(workDir, f.file)), contentType: 'application/hl7-v2' };
  const v = f.text !== undefined ? f.text : f.json ? evaluate(f.json, { vars: {} }) : '';
  return { bytes: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8'), contentType: 'application/hl7-v2; charset=utf-8' };
}

const BREAK_NAMES = { cr: 'CR', crlf: 'CRLF', lf: 'LF', any: 'CR, LF or CRLF' } as const;

/** When a failed test's fixture ends its segments in a way the sender does not accept, says so. */
function lineEndingHint(bytes: Buffer, sender: Plan['senders'][number]): string | undefined {
  const text = bytes.toString('latin1');
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  const cr = (text.match(/\r/g) ?? []).length - crlf;
  const used = crlf >= lf && crlf >= cr ? 'crlf' : lf >= cr ? 'lf' : 'cr';
  if (crlf + lf + cr === 0 || sender.segmentBreaks === 'any' || sender.segmentBreaks === used) return undefined;
  return `the fixture's segments end with ${BREAK_NAMES[used]}, but sender ${sender.name} accepts ${BREAK_NAMES[sender.segmentBreaks]} only `
    + `(line_endings ${sender.segmentBreaks}), so the listener reads it as production would: `
    + `declare \`line_endings ${used}\` (or any) if the partner sends ${BREAK_NAMES[used]}, or save the fixture with ${BREAK_NAMES[sender.segmentBreaks]} endings`;
}

function post(url: string, body: FixtureBody, timeoutMs: number): Promise<string> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': body.contentType }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const charset = /charset=([^;\s]+)/i.exec(String(res.headers['content-type'] ?? ''))?.[1] ?? 'utf-8';
        const text = Buffer.concat(chunks).toString(/^(iso-?8859-1|latin-?1|us-ascii|windows-1252)$/i.test(charset) ? 'latin1' : 'utf8');
        if (res.statusCode !== 200) reject(new Error(`the listener answered ${res.statusCode}: ${text.trim()}`));
        else resolvePost(text);
      });
    });
    req.on('timeout', () => req.destroy(new Error('the listener did not answer')));
    req.on('error', reject);
    req.end(body.bytes);
  });
}
