// A runtime with the monitoring module for tests: the real listener (plain HTTP on loopback), the
// journal, the workflow engine and the module, a plan with one sender whose workflow calls a REST
// API that the test can break (dead letters) and mend (replays), and users for the dashboard.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plan } from '../../../plan/plan.types.ts';
import { withPlanHash } from '../../../plan/plan-hash.ts';
import { Engine } from '../../../runtime/workflows/engine.ts';
import { silentLogger } from '../../../runtime/platform/log/logger.ts';
import { hashPassword } from '../../../runtime/platform/login/password-hash.ts';
import { UsersTable } from '../../../runtime/platform/login/users-table.ts';
import type { MonitoringBlocks } from '../../../modules/monitoring/monitoring-plan.ts';
import { compile } from '../../../compiler/api.ts';
import type { MonitoringInstance, MonitoringOptions } from '../../../modules/monitoring/service.ts';
import { field, post, sender, startTestRuntime, type TestRuntime } from '../../runtime/inbound/helpers.ts';

export const SRC = 'monitoring.hdc:3:1-3:20';
const S = (line: number) => `monitoring.hdc:${line}:3-${line}:40`;

export interface PartnerApi {
  url: string;
  /** While true the API answers 404: the run fails for good and becomes a dead letter. */
  broken: boolean;
  calls: number;
  /** The `traceparent` header of each call, in order (undefined when absent). */
  traceparents: Array<string | undefined>;
  close(): Promise<void>;
}

export async function startPartnerApi(): Promise<PartnerApi> {
  const api: PartnerApi = { url: '', broken: false, calls: 0, traceparents: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    api.calls++;
    api.traceparents.push(req.headers.traceparent as string | undefined);
    req.resume();
    res.writeHead(api.broken ? 404 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise((r) => server.close(() => r()));
  return api;
}

/**
 * Senders lab (ADT and ORU, workflow `admit`: a POST to the partner API, and a reject AE when the
 * family name is REJECT), pharmacy (ADT, no workflow) and clinic (ADT^A01 to `admit`, answered
 * after the workflow).
 */
export function monitoredPlan(apiUrl: string, blocks: string): Plan {
  const modules = monitoringBlocks(blocks);
  const ref = (name: string) => ({ ref: name });
  const plan = withPlanHash({
    planVersion: 1, compiler: 'hdc test', sources: [], auths: [], launches: [], tests: [],
    apis: [{ name: 'partner', kind: 'rest', baseUrl: apiUrl, timeoutMs: 5000, retry: { attempts: 1, backoffMs: 5 }, src: S(1) }],
    senders: [
      sender({
        name: 'lab', path: '/hl7/lab', fields: [field('family', 'PID-5.1')],
        accept: [{ code: 'ADT', trigger: '*' }, { code: 'ORU', trigger: 'R01' }],
        routes: [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'admit', src: S(2) }],
      }),
      sender({ name: 'pharmacy', path: '/hl7/pharmacy', accept: [{ code: 'ADT', trigger: '*' }] }),
      sender({
        name: 'clinic', path: '/hl7/clinic', fields: [field('family', 'PID-5.1')], accept: [{ code: 'ADT', trigger: 'A01' }],
        ack: { mode: 'after_workflow', timeoutMs: 20_000 }, routes: [{ types: [{ code: 'ADT', trigger: 'A01' }], workflow: 'admit', src: S(3) }],
      }),
    ],
    workflows: [{
      name: 'admit', inputs: ['family'], src: S(5),
      steps: [
        { id: 'notify', kind: 'rest', api: 'partner', method: 'POST', urlPath: { lit: '/admissions' }, body: { object: [{ key: 'family', value: ref('family') }] }, src: S(6) },
        { id: 'check', kind: 'if', cond: { op: '==', args: [ref('family'), { lit: 'REJECT' }] }, then: [{ id: 'no', kind: 'reject', code: 'AE', text: { template: ['no admission for ', ref('family')] }, src: S(8) }], src: S(7) },
      ],
    }],
    modules: { monitoring: modules },
  });
  return plan;
}

export interface Monitored {
  rt: TestRuntime;
  engine: Engine;
  module: MonitoringInstance;
  send(path: string, body: string): Promise<{ status: number; ack: string; code: string }>;
  /** Resolves when `n` more workflow runs have settled. */
  settled(n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startMonitored(plan: Plan, options?: MonitoringOptions): Promise<Monitored> {
  const rt = await startTestRuntime(plan, null, options ? { moduleOptions: { monitoring: options } } : {});
  const engine = new Engine({ db: rt.db, plan, events: rt.events, logger: silentLogger(), onFatal: rt.fatal });
  engine.start();
  rt.attachEngine(engine);
  rt.addService({ stop: () => engine.stop(), ready: () => engine.writerUp });
  const module = rt.modules.get('monitoring') as MonitoringInstance | undefined;
  if (!module) throw new Error('the runtime did not start the monitoring module');
  return {
    rt, engine, module,
    async send(path, body) {
      const a = await post(`${rt.url}${path}`, body);
      const msa = a.text.split('\r').find((s) => s.startsWith('MSA'));
      return { status: a.status, ack: a.text, code: msa?.split('|')[1] ?? '' };
    },
    settled(n) {
      return new Promise((resolve) => {
        let left = n;
        const on = () => {
          if (--left > 0) return;
          rt.events.off('finished', on);
          resolve();
        };
        if (n <= 0) resolve();
        else rt.events.on('finished', on);
      });
    },
    stop: () => rt.stop(),
  };
}

/** A dashboard user in the runtime's users table (what `hdc users add` writes). */
export async function addUser(m: Monitored, username: string, password: string, groups: string[]): Promise<void> {
  await new UsersTable(m.rt.sql).add(username, await hashPassword(password, { ln: 10, r: 8, p: 1 }), { groups });
}

/** A dashboard block: users table login, the two roles by group. */
export const DASHBOARD_BLOCK = `dashboard {
  listen "127.0.0.1:0"
  login users
  role viewer { group "integration-viewers" }
  role operator { group "integration-team" }
}
`;

/** The monitoring blocks of .hdc text, compiled (no errors allowed): what plan.modules.monitoring holds. */
export function monitoringBlocks(text: string): MonitoringBlocks {
  const r = compile(new Map([['monitoring.hdc', text]]));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !r.plan?.modules?.monitoring) throw new Error(`monitoring blocks did not compile: ${errors.map((d) => `${d.code} ${d.summary}`).join('; ')}`);
  return r.plan.modules.monitoring;
}

let n = 0;
/** An HL7 v2 message; `family` goes into PID-5.1, `controlId` into MSH-10. */
export function hl7(opts: { facility?: string; type?: string; controlId?: string; family?: string } = {}): string {
  const id = opts.controlId ?? `MON${process.pid}${Date.now()}${++n}`;
  return [
    `MSH|^~\\&|SYS|${opts.facility ?? 'LAB'}|HDC|HOSP|20240101120000||${opts.type ?? 'ADT^A01^ADT_A01'}|${id}|P|2.5.1`,
    'EVN|A01|20240101120000',
    `PID|1||12345^^^ACME^MR||${opts.family ?? 'DOE'}^JOHN||19800101|M`,
    'PV1|1|I|WARD^101^A',
  ].join('\r') + '\r';
}
