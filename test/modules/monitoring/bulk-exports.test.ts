// Bulk FHIR exports on the dashboard and in the metrics, from the bulk module's `bulk-export`
// announcements (the modules never import each other), against the real $export peer: an export
// that finishes (with error records) and one the server fails appear in the overview's Exports
// panel — live in a real browser, without a reload — and in hdc_bulk_* counters; the panel keeps
// the history after the runtime restarts (the monitoring module's own table). A screenshot of the
// panel goes to docs/screenshots/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { hashPassword } from '../../../runtime/platform/login/password-hash.ts';
import { UsersTable } from '../../../runtime/platform/login/users-table.ts';
import type { MonitoringInstance } from '../../../modules/monitoring/service.ts';
import type { ExportRow } from '../../../modules/bulk/bulk-store.ts';
import { skipBecause } from '../../harness/skip.ts';
import { browserAvailable, launchBrowser, type TestBrowser } from '../../peers/browser.ts';
import { compileProject, RECORDING_WORKFLOWS, settled, startBulkPeer, startBulkRuntime, type BulkPeer, type BulkRuntime } from '../bulk/bulk-harness.ts';
import { DASHBOARD_BLOCK } from './monitoring-harness.ts';
import { DashboardClient } from './dashboard-client.ts';
import { httpGet, parseExposition, sample } from './scrape.ts';

let peer: BulkPeer;
let rt: BulkRuntime;
let browser: TestBrowser | undefined;
let plan: ReturnType<typeof compileProject>;
const dataDir = () => join(peer.dir, 'data');
const monitoring = () => rt.runtime.modules.get('monitoring') as MonitoringInstance;
let done: ExportRow;
let failed: ExportRow;

test.before(async () => {
  peer = await startBulkPeer({ linesPerFile: 200, errorOutcomes: 2, badLines: true });
  plan = compileProject(`${peer.declarations}
bulk nightly from ehr {
  level system
  types Patient, Encounter, Observation
  on Patient run take
  on Encounter run take
  on Observation run take
  concurrency 2
}
${RECORDING_WORKFLOWS}
${DASHBOARD_BLOCK}
metrics { listen "127.0.0.1:0" }
`, peer.dir);
  rt = await startBulkRuntime(plan, dataDir());
  await new UsersTable(rt.runtime.sql).add('vera', await hashPassword('viewer-pass', { ln: 10, r: 8, p: 1 }), { groups: ['integration-viewers'] });
  if (browserAvailable()) browser = await launchBrowser({ timeoutMs: 30_000 });
});

test.after(async () => {
  await browser?.close();
  await rt?.stop();
  await peer?.close();
});

async function signIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#username', 'vera');
  await page.fill('#password', 'viewer-pass');
  await Promise.all([page.waitForNavigation(), page.click('#login')]);
  assert.is(new URL(page.url()).pathname, '/');
}

const row = (html: string, id: string) => new RegExp(`<tr data-block="nightly" data-export="${id}"[^>]*>(.*?)</tr>`).exec(html)?.[1] ?? '';
const stat = (cells: string, name: string) => new RegExp(`data-stat="${name}"[^>]*>([^<]*)<`).exec(cells)?.[1];

test('an export that finishes: the Exports panel (live, in a browser) and the metrics', async () => {
  let page: Page | undefined;
  if (browser) {
    page = await browser.newPage();
    await signIn(page, monitoring().dashboardUrl!);
    assert.is(await page.textContent('#exports tbody'), 'No Bulk FHIR exports yet.');
    await page.waitForSelector('#live.on');
  } else skipBecause('chromium is not installed (Debian package chromium): the live panel is checked over HTTP only');

  const id = await rt.bulk.start('nightly');
  done = await settled(rt.bulk, id, rt.runtime.db);
  assert.is(done.status, 'done', done.error ?? '');
  assert.ok(done.errors >= 3, `error records: two OperationOutcomes and the bad lines (${done.errors})`);
  const job = [...peer.server.jobs.values()].at(-1)!;
  const served = Object.values(peer.server.counts(job.id)).reduce((a, b) => a + b, 0);
  assert.is(done.resources, served);

  if (page) {
    // The page open before the export shows it once it ended, without a reload.
    const tr = `#exports tr[data-export="${id}"][data-status="done"]`;
    await page.waitForSelector(tr, { timeout: 15_000 });
    assert.is(await page.textContent(`${tr} [data-stat="resources"]`), String(served));
    assert.is(await page.textContent(`${tr} [data-stat="files"]`), `${done.files}/${done.files}`);
    assert.is(await page.textContent(`${tr} [data-stat="errors"]`), String(done.errors));
    assert.match((await page.textContent(`${tr} [data-stat="rate"]`))!, /^\d+\/s$/);
    assert.match((await page.textContent(`${tr} [data-stat="ended"]`))!, /^\d{4}-\d\d-\d\d /);
    await page.locator('#exports').screenshot({ path: fileURLToPath(new URL('../../../docs/screenshots/dashboard-exports.png', import.meta.url)) });
    await page.close();
  }

  const s = parseExposition((await httpGet(`${monitoring().metricsUrl!}/metrics`)).text);
  assert.is(sample(s, 'hdc_bulk_resources_total', { block: 'nightly' }), served);
  assert.is(sample(s, 'hdc_bulk_downloaded_bytes_total', { block: 'nightly' }), done.bytes);
  assert.is(sample(s, 'hdc_bulk_error_records_total', { block: 'nightly' }), done.errors);
  assert.is(sample(s, 'hdc_bulk_exports_total', { block: 'nightly', outcome: 'done' }), 1, 'counted once (progress and settled both announce the end)');
  assert.is(sample(s, 'hdc_bulk_exports_total', { block: 'nightly', outcome: 'failed' }), undefined);
  // No export id or content in labels.
  assert.not.match([...s.keys()].filter((k) => k.startsWith('hdc_bulk')).join('\n'), new RegExp(id));
});

test('an export the server fails is counted as failed; the panel lists both, newest first', async () => {
  peer.server.switches.failExport = true;
  try {
    const id = await rt.bulk.start('nightly');
    failed = await settled(rt.bulk, id, rt.runtime.db);
  } finally {
    peer.server.switches.failExport = false;
  }
  assert.is(failed.status, 'failed');
  const s = parseExposition((await httpGet(`${monitoring().metricsUrl!}/metrics`)).text);
  assert.is(sample(s, 'hdc_bulk_exports_total', { block: 'nightly', outcome: 'failed' }), 1);
  assert.is(sample(s, 'hdc_bulk_exports_total', { block: 'nightly', outcome: 'done' }), 1);

  const c = new DashboardClient(monitoring().dashboardUrl!);
  await c.signIn('vera', 'viewer-pass');
  const html = (await c.get('/')).text;
  assert.match(html, /<h2>Bulk FHIR exports<\/h2>/);
  assert.ok(html.indexOf(`data-export="${failed.id}"`) < html.indexOf(`data-export="${done.id}"`), 'newest first');
  assert.is(stat(row(html, failed.id), 'status'), 'failed');
  const json = JSON.parse((await c.get('/overview.json')).text) as { data: { exports: Array<{ export: string; status: string; resources: number }> } };
  assert.equal(json.data.exports.map((e) => [e.export, e.status]), [[failed.id, 'failed'], [done.id, 'done']]);
});

test('the history survives a restart (the monitoring module\'s own table)', async () => {
  await rt.stop();
  rt = await startBulkRuntime(plan, dataDir());
  const c = new DashboardClient(monitoring().dashboardUrl!);
  await c.signIn('vera', 'viewer-pass');
  const html = (await c.get('/')).text;
  const cells = row(html, done.id);
  assert.is(stat(cells, 'status'), 'done');
  assert.is(stat(cells, 'resources'), String(done.resources));
  assert.is(stat(cells, 'files'), `${done.files}/${done.files}`);
  assert.is(stat(row(html, failed.id), 'status'), 'failed');
  // A new process' counters start from zero: nothing of the old exports is counted again.
  const s = parseExposition((await httpGet(`${monitoring().metricsUrl!}/metrics`)).text);
  assert.is(sample(s, 'hdc_bulk_exports_total', { block: 'nightly', outcome: 'done' }), undefined);
});

test.run();
