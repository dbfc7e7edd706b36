// Debian's Prometheus scrapes the runtime's /metrics, and PromQL returns the counts this test
// sent. Needs the Debian package `prometheus` (.ci/run installs it); skipped when it is absent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { skipBecause } from '../../harness/skip.ts';
import { hl7, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';
import { httpGet } from './scrape.ts';

const PROMETHEUS = process.env.HDC_PROMETHEUS ?? '/usr/bin/prometheus';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Asks PromQL until `accept` likes the answer (a scrape happens every second) or the bound passes. */
async function query(base: string, promql: string, accept: (v: number | undefined) => boolean, boundMs = 60_000): Promise<number | undefined> {
  const deadline = Date.now() + boundMs;
  let last: number | undefined;
  while (Date.now() < deadline) {
    const r = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
    if (r?.status === 200) {
      const body = JSON.parse(r.text) as { data: { result: Array<{ value: [number, string] }> } };
      last = body.data.result[0] ? Number(body.data.result[0].value[1]) : undefined;
      if (accept(last)) return last;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return last;
}

let api: PartnerApi;
let m: Monitored;
let prom: ChildProcess | undefined;
let dir: string;

test.after(async () => {
  prom?.kill('SIGTERM');
  if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
  await m?.stop();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('Prometheus scrapes /metrics and PromQL returns the counts sent', async () => {
  if (!existsSync(PROMETHEUS)) return skipBecause(`prometheus not found at ${PROMETHEUS} (Debian package prometheus)`);
  api = await startPartnerApi();
  m = await startMonitored(monitoredPlan(api.url, 'metrics { listen "127.0.0.1:0" }'));
  const settled = m.settled(4);
  for (let i = 0; i < 4; i++) assert.is((await m.send('/hl7/lab', hl7({ family: `P${i}` }))).code, 'AA');
  assert.is((await m.send('/hl7/lab', hl7({ type: 'SIU^S12^SIU_S12' }))).code, 'AR');
  await settled;

  dir = mkdtempSync(join(tmpdir(), 'hdc-prometheus-'));
  const target = new URL(m.module.metricsUrl!).host;
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: hdc\n    static_configs:\n      - targets: ['${target}']\n`);
  const port = await freePort();
  prom = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn', '--storage.tsdb.retention.time=1h',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  prom.stderr!.on('data', (c: Buffer) => void (stderr += c.toString()));
  const base = `http://127.0.0.1:${port}`;

  const up = await query(base, 'up{job="hdc"}', (v) => v === 1);
  assert.is(up, 1, `prometheus never scraped the runtime: ${stderr.slice(-500)}`);
  const accepted = await query(base, 'sum(hdc_hl7_messages_total{sender="lab",ack_code="AA"})', (v) => v === 4);
  assert.is(accepted, 4);
  assert.is(await query(base, 'sum(hdc_hl7_messages_total{message_type="SIU^S12",ack_code="AR"})', (v) => v === 1), 1);
  assert.is(await query(base, 'sum(hdc_workflow_runs_total{workflow="admit",status="done"})', (v) => v === 4), 4);
  assert.is(await query(base, 'sum(hdc_hl7_ack_latency_seconds_count{sender="lab"})', (v) => v === 5), 5);
  const p95 = await query(base, 'histogram_quantile(0.95, sum by (le) (hdc_hl7_ack_latency_seconds_bucket{sender="lab"}))', (v) => v !== undefined && v > 0);
  assert.ok(p95 !== undefined && p95 > 0 && p95 <= 10);
});

test.run();
