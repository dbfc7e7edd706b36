// The dashboard in a real browser (Debian chromium via playwright-core): a viewer and an operator
// sign in; the numbers on the overview equal the traffic this test sent, the charts hold it, new
// traffic appears without a reload; the viewer sees no content and no replay (nor gets one by
// direct URL or a forged POST); the operator sees content (audited), replays a dead letter and a
// message through its workflow and finds both in the audit log; a message field holding
// markup is shown as text. Screenshots of the overview and a message page go to docs/screenshots/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { skipBecause } from '../../harness/skip.ts';
import { browserAvailable, launchBrowser, type TestBrowser } from '../../peers/browser.ts';
import { addUser, DASHBOARD_BLOCK, hl7, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';

const SHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const XSS_FAMILY = '<img src=x id=xss-family onerror=alert(1)>';
const XSS_CONTROL_ID = '<b id=xss-cid>X1</b>';

let api: PartnerApi;
let m: Monitored;
let browser: TestBrowser;
let base: string;
let xssMessage: number;
let deadMessage: number;
let deadRun: number;
let okMessage: number;
const dialogs: string[] = [];
const cspViolations: string[] = [];

async function watch(page: Page): Promise<Page> {
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  assert.is(new URL(page.url()).pathname, '/login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login')]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`sign-in failed at ${page.url()}: ${await page.textContent('main')}`);
}

test.before(async () => {
  if (!browserAvailable()) return;
  api = await startPartnerApi();
  m = await startMonitored(monitoredPlan(api.url, DASHBOARD_BLOCK));
  base = m.module.dashboardUrl!;
  await addUser(m, 'vera', 'viewer-pass', ['integration-viewers']);
  await addUser(m, 'otto', 'operator-pass', ['integration-team']);
  let settled = m.settled(2);
  assert.is((await m.send('/hl7/lab', hl7({ family: 'SMITH', controlId: 'OK-1' }))).code, 'AA');
  assert.is((await m.send('/hl7/lab', hl7({ family: XSS_FAMILY, controlId: XSS_CONTROL_ID }))).code, 'AA');
  await settled;
  api.broken = true;
  settled = m.settled(1);
  assert.is((await m.send('/hl7/lab', hl7({ family: 'TAYLOR', controlId: 'DEAD-1' }))).code, 'AA');
  await settled;
  api.broken = false;
  assert.is((await m.send('/hl7/lab', hl7({ type: 'SIU^S12^SIU_S12' }))).code, 'AR');
  assert.is((await m.send('/hl7/pharmacy', hl7({ type: 'ADT^A04^ADT_A01' }))).code, 'AA');
  const id = (cid: string) => (m.rt.db.prepare('SELECT id FROM messages WHERE control_id = ?').get(cid) as { id: number }).id;
  xssMessage = id(XSS_CONTROL_ID);
  deadMessage = id('DEAD-1');
  okMessage = id('OK-1');
  deadRun = (m.rt.db.prepare('SELECT id FROM workflow_runs WHERE message_id = ?').get(deadMessage) as { id: number }).id;
  browser = await launchBrowser({ timeoutMs: 30_000 });
  mkdirSync(SHOTS, { recursive: true });
});

test.after(async () => {
  await browser?.close();
  await m?.stop();
  await api?.close();
});

const cell = (page: Page, sender: string, type: string, stat: string) =>
  page.locator(`#summaries tr[data-sender="${sender}"][data-type="${type}"] [data-stat="${stat}"]`).textContent();

test('viewer: the overview shows what was sent, live; no content, no replay', async () => {
  if (!browserAvailable()) return skipBecause('chromium is not installed (Debian package chromium)');
  const page = await watch(await browser.newPage());
  await signIn(page, 'vera', 'viewer-pass');
  assert.is(await page.textContent('#role'), 'viewer');
  assert.is(await page.textContent('#total-messages'), '5');
  assert.is(await cell(page, 'lab', 'ADT^A01', 'count'), '3');
  assert.is(await cell(page, 'lab', 'ADT^A01', 'AA'), '3');
  assert.is(await cell(page, 'lab', 'SIU^S12', 'AR'), '1');
  assert.is(await cell(page, 'pharmacy', 'ADT^A04', 'count'), '1');
  assert.match((await cell(page, 'lab', 'ADT^A01', 'p95'))!, /ms$/);
  assert.is(await page.textContent('#dead-letters'), '1');
  assert.is(await page.textContent('#runs tr[data-workflow="admit"][data-status="done"] [data-stat="runs"]'), '2');
  assert.is(await page.textContent('#runs tr[data-workflow="admit"][data-status="dead"] [data-stat="runs"]'), '1');
  // The charts were drawn by uPlot (served by the runtime) and hold every message.
  await page.waitForSelector('#chart-messages canvas');
  assert.is(await page.getAttribute('#chart-messages', 'data-total'), '5');
  assert.is(await page.getAttribute('#chart-messages', 'data-series'), 'lab,pharmacy');
  assert.is(await page.getAttribute('#chart-acks', 'data-total'), '5');
  assert.is(await page.getAttribute('#chart-acks', 'data-series'), 'AA,AR');
  await page.waitForSelector('#live.on');
  await page.screenshot({ path: `${SHOTS}dashboard-overview.png`, fullPage: true });

  // Live: a new message shows up without a reload.
  const sent = Date.now();
  await m.send('/hl7/pharmacy', hl7({ type: 'ADT^A04^ADT_A01' }));
  await page.waitForFunction(() => document.getElementById('total-messages')?.textContent === '6', undefined, { timeout: 15_000 });
  const liveMs = Date.now() - sent;
  process.stderr.write(`  live update after ${liveMs} ms\n`);
  assert.is(await cell(page, 'pharmacy', 'ADT^A04', 'count'), '2');
  assert.is(await page.getAttribute('#chart-messages', 'data-total'), '6');

  // Drill-down: sender → its messages → one message, masked.
  await Promise.all([page.waitForURL(/\/messages\?sender=lab$/), page.click('#summaries tr[data-sender="lab"][data-type="ADT^A01"] td:first-child a')]);
  assert.is(await page.locator('#results tbody tr').count(), 3);
  await Promise.all([page.waitForURL(`${base}/messages/${xssMessage}`), page.click(`#results tr[data-id="${xssMessage}"] a`)]);
  const content = (await page.textContent('#content'))!;
  assert.not.ok(content.includes('xss-family'), 'viewers see no content');
  assert.match(content, /^PID\|•••/m);
  assert.is(await page.textContent('#m-control-id'), XSS_CONTROL_ID, 'markup in a field is shown as text');
  assert.is(await page.locator('#xss-cid').count(), 0);
  await page.goto(`${base}/messages/${deadMessage}`);
  assert.is(await page.locator('form[action$="/replay"]').count(), 0, 'no replay for viewers');
  await page.goto(`${base}/messages/${okMessage}`);
  assert.is(await page.locator('#replay-message').count(), 0, 'no message replay for viewers');
  // Neither by direct URL nor by a forged POST, with or without the viewer's own CSRF token.
  const runsBefore = (m.rt.db.prepare('SELECT COUNT(*) AS n FROM workflow_runs').get() as { n: number }).n;
  const direct = await page.goto(`${base}/messages/${okMessage}/replay`);
  assert.ok(direct!.status() >= 400, `direct URL: ${direct!.status()}`);
  await page.goto(`${base}/messages/${okMessage}`);
  const csrf = await page.getAttribute('input[name="csrf"]', 'value');
  assert.ok(csrf, 'the viewer\'s own token (the sign-out form)');
  const forged = await page.request.post(`${base}/messages/${okMessage}/replay`, { form: { confirm: 'yes', csrf: csrf! }, maxRedirects: 0 });
  assert.is(forged.status(), 403);
  assert.match(await forged.text(), /Only operators can replay messages/);
  const noToken = await page.request.post(`${base}/messages/${okMessage}/replay`, { form: { confirm: 'yes' }, maxRedirects: 0 });
  assert.is(noToken.status(), 403);
  assert.is((m.rt.db.prepare('SELECT COUNT(*) AS n FROM workflow_runs').get() as { n: number }).n, runsBefore, 'nothing was replayed');
  // By direct URL: the audit log is not for viewers.
  const audit = await page.goto(`${base}/audit`);
  assert.is(audit!.status(), 403);
  await page.close();
});

test('operator: content shown (audited), markup inert, a dead letter replayed and audited', async () => {
  if (!browserAvailable()) return skipBecause('chromium is not installed (Debian package chromium)');
  await browser.context.clearCookies();
  const page = await watch(await browser.newPage());
  await signIn(page, 'otto', 'operator-pass');
  assert.is(await page.textContent('#role'), 'operator');
  await page.goto(`${base}/messages/${xssMessage}`);
  const content = (await page.textContent('#content'))!;
  assert.ok(content.includes(XSS_FAMILY), 'operators see the content, as text');
  assert.is(await page.locator('#xss-family').count(), 0, 'the markup was not parsed');
  await page.screenshot({ path: `${SHOTS}dashboard-message.png`, fullPage: true });

  await page.goto(`${base}/messages/${deadMessage}`);
  assert.is(await page.textContent(`#run-${deadRun} .status`), 'dead');
  const settled = m.settled(1);
  await page.check(`#run-${deadRun} input[name="confirm"]`);
  await Promise.all([page.waitForURL(new RegExp(`/messages/${deadMessage}#run-${deadRun}$`)), page.click(`#replay-${deadRun}`)]);
  await settled;
  await page.reload();
  assert.is(await page.textContent(`#run-${deadRun} .status`), 'done');

  // The message that went through fine, through its workflow again: a new run, the request sent again.
  await page.goto(`${base}/messages/${okMessage}`);
  const firstRun = (m.rt.db.prepare('SELECT id FROM workflow_runs WHERE message_id = ?').get(okMessage) as { id: number }).id;
  assert.is(await page.locator('section.run').count(), 1);
  const calls = api.calls;
  const again = m.settled(1);
  await page.check('#replay-message input[name="confirm"]');
  await Promise.all([page.waitForURL(new RegExp(`/messages/${okMessage}#run-\\d+$`)), page.click(`#replay-message-${okMessage}`)]);
  const newRun = Number(/#run-(\d+)$/.exec(page.url())![1]);
  assert.ok(newRun > firstRun);
  await again;
  await page.reload();
  assert.is(await page.locator('section.run').count(), 2);
  assert.is(await page.textContent(`#run-${newRun} .status`), 'done');
  assert.is(await page.textContent(`#run-${firstRun} .status`), 'done');
  assert.is(api.calls, calls + 1, 'the workflow\'s request was sent again');

  await page.goto(`${base}/audit`);
  const rows = await page.locator('#audit tbody tr').allTextContents();
  assert.ok(rows.some((r) => r.includes('otto') && r.includes('replay-run') && r.includes(`run ${deadRun}`)), rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('otto') && r.includes('replay-message') && r.includes(`message ${okMessage}`) && r.includes(`new run ${newRun} queued`)), rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('vera') && r.includes('refused') && r.includes(`POST /messages/${okMessage}/replay`)), 'the forged POST was audited');
  assert.ok(rows.some((r) => r.includes('otto') && r.includes('view-message') && r.includes(`message ${xssMessage}`)));
  await page.screenshot({ path: `${SHOTS}dashboard-audit.png`, fullPage: true });
  await page.close();
});

test('no script ran from message content and the page broke no CSP rule', () => {
  if (!browserAvailable()) return skipBecause('chromium is not installed (Debian package chromium)');
  assert.equal(dialogs, []);
  assert.equal(cspViolations, []);
});

test.run();
