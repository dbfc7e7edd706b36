// SMART launches counted by the monitoring module through the seam's module events (the modules
// never import each other): launches refused (a bad request, an issuer not on the allow-list) and
// failed (the EHR's server unreachable) appear in hdc_smart_launches_total{launch,outcome} and in
// the overview's "SMART launches by outcome" panel, which plans without launches do not show.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { compileHdc, freePort } from '../smart/smart-harness.ts';
import { launchHdc } from '../smart/launch-fixture.ts';
import { addUser, DASHBOARD_BLOCK, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';
import { DashboardClient } from './dashboard-client.ts';
import { httpGet, parseExposition, sample } from './scrape.ts';

process.env.INTAKE_SECRET = 'intake-secret';
process.env.FORM_KEY = 'form-signing-key';

let api: PartnerApi;
let m: Monitored;
let fhirBase: string;

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject).end();
  });
}

test.before(async () => {
  api = await startPartnerApi();
  // Nothing listens there: the launch's discovery fails (a 5xx, "failed").
  fhirBase = `http://127.0.0.1:${await freePort()}/fhir`;
  const plan = monitoredPlan(api.url, `${DASHBOARD_BLOCK}\nmetrics { listen "127.0.0.1:0" }\n`);
  plan.launches = compileHdc(launchHdc({ fhirBase, formsOrigin: 'https://forms.example.org' })).launches;
  m = await startMonitored(plan);
  await addUser(m, 'vera', 'viewer-pass', ['integration-viewers']);
});

test.after(async () => {
  await m?.stop();
  await api?.close();
});

test('launch outcomes reach the metrics and the overview panel', async () => {
  const launch = `${m.rt.url}/smart/intake/launch`;
  assert.is(await get(launch), 400, 'no iss: refused');
  assert.is(await get(`${launch}?iss=${encodeURIComponent('https://evil.example.org/fhir')}&launch=L1`), 400, 'iss not allowed: refused');
  const failed = await get(`${launch}?iss=${encodeURIComponent(fhirBase)}&launch=L2`);
  assert.ok(failed >= 500, `the EHR's server is unreachable: failed (${failed})`);

  const s = parseExposition((await httpGet(`${m.module.metricsUrl!}/metrics`)).text);
  assert.is(sample(s, 'hdc_smart_launches_total', { launch: 'intake', outcome: 'refused' }), 2);
  assert.is(sample(s, 'hdc_smart_launches_total', { launch: 'intake', outcome: 'failed' }), 1);
  assert.is(sample(s, 'hdc_smart_launches_total', { launch: 'intake', outcome: 'completed' }), undefined);

  const c = new DashboardClient(m.module.dashboardUrl!);
  await c.signIn('vera', 'viewer-pass');
  const page = (await c.get('/')).text;
  assert.match(page, /<h2>SMART launches by outcome<\/h2>/);
  assert.not.match(page, /Bulk FHIR exports/, 'no Exports panel for a plan without bulk blocks');
  const row = /<tr data-launch="intake">(.*?)<\/tr>/.exec(page)?.[1] ?? '';
  assert.match(row, /data-stat="completed">0</);
  assert.match(row, /data-stat="refused">2</);
  assert.match(row, /data-stat="failed">1</);
  const json = (await c.get('/overview.json')).text;
  assert.match(json, /"launches":\[\{"launch":"intake","outcome":"failed","count":1\},\{"launch":"intake","outcome":"refused","count":2\}\]/);
});

test.run();
