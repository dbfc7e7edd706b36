// npm run bench:dashboard — the dashboard's pages over a journal of BENCH_MESSAGES messages
// (default 1,000,000) spread over 30 days, three senders and four message types (and a fourth
// sender with one message in 5,000, whose search cannot stop within the newest rows), with their
// per-minute rollups: the overview (30-day range: rollups only), searches (by control ID, by sender
// and type, by status, by time range; first page) and a message page, each requested over HTTP by
// a signed-in operator BENCH_REQUESTS times. Targets: overview p95 < 300 ms, search and message
// page p95 < 100 ms.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { withPlanHash } from '../plan/plan-hash.ts';
import type { Plan } from '../plan/plan.types.ts';
import { openDatabase, databasePath } from '../runtime/journal/open-database.ts';
import { coreMigrations } from '../runtime/journal/core-migrations.ts';
import { startRuntime } from '../runtime/platform/start-runtime.ts';
import { mapFields } from '../runtime/inbound/map-fields.ts';
import { silentLogger } from '../runtime/platform/log/logger.ts';
import { hashPassword } from '../runtime/platform/login/password-hash.ts';
import { UsersTable } from '../runtime/platform/login/users-table.ts';
import monitoring, { type MonitoringInstance } from '../modules/monitoring/service.ts';
import { Rollups } from '../modules/monitoring/rollups.ts';
import { sqliteSql } from '../runtime/store/shared-sql.ts';
import { DashboardSessions } from '../modules/monitoring/dashboard/sessions.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const SENDERS = ['lab', 'radiology', 'pharmacy'];
/** A sender with little traffic: one message in RARE_EVERY. */
const RARE = 'pathology';
const RARE_EVERY = 5000;
const TYPES: Array<[string, string]> = [['ADT', 'A01'], ['ADT', 'A08'], ['ORU', 'R01'], ['ORM', 'O01']];
const DAY = 86_400_000;
const src = 'bench.hdc:1:1-1:2';

async function fill(file: string, now: number): Promise<{ controlId: string; messageId: number }> {
  const db = openDatabase(file, { migrations: [...coreMigrations, ...(monitoring.migrations ?? [])] });
  const insert = db.prepare(`INSERT INTO messages (sender, control_id, sending_system, content_hash, message_type, trigger, received_at, raw, charset, status, ack)
    VALUES (?, ?, 'SYS^FAC', ?, ?, ?, ?, ?, 'utf-8', ?, ?)`);
  const rollups = new Rollups(sqliteSql(db));
  const start = now - 30 * DAY;
  const step = (30 * DAY) / MESSAGES;
  let probe = { controlId: '', messageId: 0 };
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = Math.floor(start + i * step);
      const sender = i % RARE_EVERY === 7 ? RARE : SENDERS[i % 3]!;
      const [code, trigger] = TYPES[(i >> 2) % 4]!;
      const rejected = i % 97 === 0;
      const ack = rejected ? 'AE' : 'AA';
      const controlId = `C${i.toString(36).toUpperCase()}`;
      const raw = `MSH|^~\\&|SYS|FAC|HDC|HOSP|20240101||${code}^${trigger}|${controlId}|P|2.5.1\rPID|1||${i}^^^ACME^MR||DOE^JANE||19800101|F\r`;
      const r = insert.run(sender, controlId, `h${i}`, code, trigger, at, Buffer.from(raw), rejected ? 'failed' : 'processed', `MSH|^~\\&|HDC|HOSP|SYS|FAC|20240101||ACK|A${i}|P|2.5.1\rMSA|${ack}|${controlId}\r`);
      if (i === Math.floor(MESSAGES / 2)) probe = { controlId, messageId: Number(r.lastInsertRowid) };
      rollups.countMessage(sender, `${code}^${trigger}`, ack, at, 3 + (i % 40));
    }
  });
  for (let i = 0; i < MESSAGES; i += 50_000) batch(i, Math.min(MESSAGES, i + 50_000));
  await rollups.flush();
  db.close();
  return probe;
}

function get(url: string, cookie: string): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { headers: { Cookie: cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
    }).on('error', reject).end();
  });
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hdc-bench-dashboard-'));
  try {
    const now = Date.now();
    const t0 = performance.now();
    const probe = await fill(databasePath(join(dir, 'data')), now);
    console.log(`dashboard: ${MESSAGES.toLocaleString('en')} messages journaled over 30 days in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const plan: Plan = withPlanHash({
      planVersion: 1, compiler: 'bench', sources: [], auths: [], apis: [], launches: [], tests: [], workflows: [],
      senders: [...SENDERS, RARE].map((name) => ({ name, path: `/hl7/${name}`, match: [], identity: { kind: 'none' as const }, accept: [{ code: '*', trigger: '*' }], segmentBreaks: 'any' as const, ack: { mode: 'on_receive' as const }, fields: [], routes: [], src })),
      modules: { monitoring: { dashboard: { kind: 'dashboard', src, settings: { listen: '127.0.0.1:0', login: 'users', role: { value: 'operator', group: 'ops' } } } } },
    });
    const rt = await startRuntime(plan, {
      host: '127.0.0.1', port: 0, tls: null, dataDir: join(dir, 'data'), maxBodyBytes: 1 << 20, requestTimeoutMs: 30_000, shutdownTimeoutMs: 5000,
      logPhi: false, log: silentLogger(), mapFields,
    });
    await new UsersTable(rt.sql).add('ops', await hashPassword('bench-pass', { ln: 10, r: 8, p: 1 }), { groups: ['ops'] });
    const module = rt.modules.get('monitoring') as MonitoringInstance;
    const { token } = await new DashboardSessions(rt.sql, 3_600_000).create('ops', 'operator');
    const cookie = `hdc-dashboard=${token}`;
    const base = module.dashboardUrl!;
    const day = (d: number) => new Date(now - d * DAY).toISOString().slice(0, 16);
    const pages: Record<string, string[]> = {
      overview: ['/?range=30d', '/?range=24h', '/?range=1h'],
      search: [
        `/messages?control_id=${probe.controlId}`, '/messages?sender=lab&type=ORU%5ER01', '/messages?status=failed',
        `/messages?from=${day(10)}&to=${day(9)}`, '/messages?sender=pharmacy', `/messages?sender=${RARE}`, '/messages',
      ],
      messagePage: [`/messages/${probe.messageId}`, `/messages/${Math.max(1, probe.messageId - 12_345)}`],
    };
    const times: Record<string, number[]> = { overview: [], search: [], messagePage: [] };
    for (const [kind, urls] of Object.entries(pages)) {
      for (const u of urls) {
        const first = await get(`${base}${u}`, cookie);
        if (first.status !== 200) throw new Error(`${u}: HTTP ${first.status}`);
      }
      const slowest = new Map<string, number>();
      for (let i = 0; i < REQUESTS; i++) {
        const u = urls[i % urls.length]!;
        const ms = (await get(`${base}${u}`, cookie)).ms;
        times[kind]!.push(ms);
        slowest.set(u, Math.max(slowest.get(u) ?? 0, ms));
      }
      for (const [u, ms] of slowest) console.log(`  ${u}: slowest ${ms.toFixed(1)} ms`);
      console.log(`${kind}: p95 ${p95(times[kind]!).toFixed(1)} ms over ${REQUESTS} requests (${urls.join(', ')})`);
    }
    await rt.close();
    const out = {
      bench: 'dashboard', journaled: MESSAGES,
      overviewP95Ms: Math.round(p95(times.overview!) * 10) / 10,
      searchP95Ms: Math.round(p95(times.search!) * 10) / 10,
      messagePageP95Ms: Math.round(p95(times.messagePage!) * 10) / 10,
      requests: REQUESTS,
    };
    const resultsDir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'dashboard.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
