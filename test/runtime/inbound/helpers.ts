// Shared pieces for the listener tests: plans written as typed Plan objects (hashed like the
// compiler does), a test PKI, an in-process runtime on 127.0.0.1:0 and an HTTPS client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { FieldMapping, Hl7Path, Plan, Sender, Workflow } from '../../../plan/plan.types.ts';
import { parseHl7Path } from '../../../compiler/syntax/hl7-path.ts';
import { withPlanHash } from '../../../plan/plan-hash.ts';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../../runtime/platform/start-runtime.ts';
import { mapFields } from '../../../runtime/inbound/map-fields.ts';
import { orderKeyFor } from '../../../runtime/inbound/order-key.ts';
import { silentLogger } from '../../../runtime/platform/log/logger.ts';
import { RunEvents } from '../../../runtime/journal/run-events.ts';

export const SRC = 'test.hdc:1:1-1:10';

export function hl7Path(text: string): Hl7Path {
  const r = parseHl7Path(text);
  if ('error' in r) throw new Error(`bad path ${text}: ${r.error}`);
  return r.path;
}

export function field(name: string, path: string, extra: Partial<FieldMapping> = {}): FieldMapping {
  return { name, path: hl7Path(path), type: 'string', src: SRC, ...extra };
}

export function sender(over: Partial<Sender> & { name: string; path: string }): Sender {
  return {
    match: [],
    identity: { kind: 'none' },
    accept: [{ code: '*', trigger: '*' }],
    segmentBreaks: 'any',
    ack: { mode: 'on_receive' },
    fields: [],
    routes: [],
    src: SRC,
    ...over,
  };
}

export function workflow(name: string, over: Partial<Workflow> = {}): Workflow {
  return { name, inputs: [], steps: [], src: SRC, ...over };
}

export function makePlan(senders: Sender[], workflows: Workflow[] = []): Plan {
  return withPlanHash({
    planVersion: 1, compiler: 'hdc test', sources: [], auths: [], apis: [], senders, workflows, launches: [], tests: [],
  });
}

export interface TestPki {
  ca: IssuedCertificate;
  server: IssuedCertificate;
  client(cn: string): Promise<IssuedCertificate>;
  /** A client certificate from an unrelated CA. */
  foreign(cn: string): Promise<IssuedCertificate>;
  /** A client certificate from the test CA that expired 12 hours ago. */
  expired(cn: string): Promise<IssuedCertificate>;
}

export async function createPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority('test CA');
  const other = await createCertificateAuthority('someone else CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  return {
    ca,
    server,
    client: (cn) => issueCertificate(ca, { commonName: cn, usage: 'client' }),
    foreign: (cn) => issueCertificate(other, { commonName: cn, usage: 'client' }),
    expired: (cn) => issueCertificate(ca, { commonName: cn, usage: 'client', validDays: -0.5 }),
  };
}

export interface TestRuntime extends Runtime {
  dir: string;
  stop(): Promise<void>;
}

/** Starts the runtime in-process with its PEM files written to a temp dir. */
export async function startTestRuntime(plan: Plan, pki: TestPki | null, over: Partial<RuntimeOptions> = {}): Promise<TestRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-rt-'));
  const { writeFileSync } = await import('node:fs');
  let tls: RuntimeOptions['tls'] = null;
  if (pki) {
    writeFileSync(join(dir, 'server.crt'), pki.server.cert);
    writeFileSync(join(dir, 'server.key'), pki.server.key);
    writeFileSync(join(dir, 'ca.crt'), pki.ca.cert);
    tls = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.crt') };
  }
  const rt = await startRuntime(plan, {
    host: '127.0.0.1', port: 0, tls, dataDir: join(dir, 'data'), maxBodyBytes: 1024 * 1024, requestTimeoutMs: 10_000,
    shutdownTimeoutMs: 5000, logPhi: false, log: silentLogger(), mapFields, orderKeyFor, events: new RunEvents(), ...over,
  });
  return Object.assign(rt, {
    dir,
    async stop() {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface PostOptions {
  cert?: IssuedCertificate;
  ca?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
  method?: string;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export function post(url: string, body: string | Buffer, opts: PostOptions = {}): Promise<Answer> {
  const u = new URL(url);
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string> = { ...(opts.contentType === null ? {} : { 'Content-Type': opts.contentType ?? 'application/hl7-v2' }), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
      method: opts.method ?? 'POST',
      headers: { ...headers, 'Content-Length': String(data.length) },
      agent: false,
      ...(u.protocol === 'https:' ? { ca: opts.ca, ...(opts.cert ? { cert: opts.cert.cert, key: opts.cert.key } : {}) } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), text: b.toString('latin1'), body: b, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** MSA-1 and MSA-2 of each ACK in a response. */
export function msas(text: string): { code: string; controlId: string; segment: string }[] {
  return text.split('\r').filter((s) => s.startsWith('MSA')).map((s) => {
    const f = s.split(s[3]!);
    return { code: f[1] ?? '', controlId: f[2] ?? '', segment: s };
  });
}

export function segment(text: string, name: string): string[] | undefined {
  const s = text.split('\r').find((x) => x.startsWith(name));
  return s?.split(s[3]!);
}

let counter = 0;
export function adt(opts: { controlId?: string; type?: string; version?: string; processingId?: string; app?: string; facility?: string; extra?: string; msh15?: string; msh16?: string } = {}): string {
  const id = opts.controlId ?? `CTRL${Date.now()}${++counter}`;
  const msh15 = opts.msh15 ?? '';
  const msh16 = opts.msh16 ?? '';
  return [
    `MSH|^~\\&|${opts.app ?? 'LABSYS'}|${opts.facility ?? 'LABCORP'}|HDC|HOSP|20240101120000||${opts.type ?? 'ADT^A01^ADT_A01'}|${id}|${opts.processingId ?? 'P'}|${opts.version ?? '2.5.1'}|||${msh15}|${msh16}`,
    'EVN|A01|20240101120000',
    'PID|1||12345^^^ACME^MR~999^^^SSA^SS||DOE^JOHN^Q||19800101|M',
    'PV1|1|I|WARD^101^A',
    ...(opts.extra ? [opts.extra] : []),
  ].join('\r') + '\r';
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
