import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:https';
import { chargesFor, startRestApi, type RestApi } from '../peers/rest-api.ts';
import { selfSignedCert } from '../peers/self-signed.ts';

let api: RestApi;
const basic = 'Basic ' + Buffer.from('billing-user:s3cr:et').toString('base64');

test.before(async () => {
  api = await startRestApi({ user: 'billing-user', password: 's3cr:et' });
});
test.after(() => api.close());

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${api.baseUrl}${path}`, { ...init, headers: { authorization: basic, ...(init.headers as object) } });

test('Basic auth is required and checked', async () => {
  const anon = await fetch(`${api.baseUrl}/charges?from=2020-01-01&to=2020-01-02`);
  assert.is(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate')!, /^Basic realm="billing"/);
  const wrong = await fetch(`${api.baseUrl}/charges?from=2020-01-01&to=2020-01-02`, {
    headers: { authorization: 'Basic ' + Buffer.from('billing-user:nope').toString('base64') },
  });
  assert.is(wrong.status, 401);
  const rec = api.requests.at(-1)!;
  assert.is(rec.auth, 'Basic');
  assert.is(rec.status, 401);
  assert.not.ok('authorization' in rec.headers);
});

test('GET /charges is deterministic in the query', async () => {
  const q = 'encounter=80b35153-7734-4324-898c-72de165e51c3&from=2010-09-03T02:34:16-04:00&to=2010-09-03T03:04:16-04:00';
  const a = await (await call(`/charges?${q}`)).json();
  const b = await (await call(`/charges?${q}`)).json();
  assert.equal(a, b);
  assert.equal(a, chargesFor('80b35153-7734-4324-898c-72de165e51c3', '2010-09-03T02:34:16-04:00', '2010-09-03T03:04:16-04:00'));
  assert.ok(a.items.length >= 1 && a.items.length <= 4);
  const sum = Math.round(a.items.reduce((s: number, i: { amount: number }) => s + i.amount * 100, 0)) / 100;
  assert.is(a.total, sum);
  const other = await (await call('/charges?encounter=other&from=2010-09-03&to=2010-09-04')).json();
  assert.is.not(other.total, a.total);
  assert.is((await call('/charges?from=yesterday&to=2020-01-01')).status, 400);
  assert.is((await call('/charges?from=2020-02-01&to=2020-01-01')).status, 400);
});

test('POST /admissions stores the body; GET lists it', async () => {
  const res = await call('/admissions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mrn: 'MRN-1', total: 120.5 }),
  });
  assert.is(res.status, 201);
  const created = await res.json();
  assert.is(created.mrn, 'MRN-1');
  assert.ok(created.id);
  assert.is(api.admissions.length, 1);
  assert.equal(api.admissions[0].total, 120.5);
  const one = await (await call(`/admissions/${created.id}`)).json();
  assert.is(one.mrn, 'MRN-1');
  const list = await (await call('/admissions')).json();
  assert.is(list.total, 1);
  const rec = api.requests.find((r) => r.method === 'POST')!;
  assert.equal(rec.body, { mrn: 'MRN-1', total: 120.5 });
  assert.is((await call('/admissions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' })).status, 400);
  assert.is((await call('/admissions', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
  assert.is((await call('/nothing')).status, 404);
});

test('fault injection: 503 once, 429 with Retry-After on one path, delay', async () => {
  api.fault({ status: 503, times: 1 });
  assert.is((await call('/admissions')).status, 503);
  assert.is((await call('/admissions')).status, 200);
  api.fault({ status: 429, retryAfter: 2, pathPrefix: '/api/charges', method: 'GET' });
  assert.is((await call('/admissions')).status, 200);
  const limited = await call('/charges?from=2020-01-01&to=2020-01-02');
  assert.is(limited.status, 429);
  assert.is(limited.headers.get('retry-after'), '2');
  assert.is(api.requests.at(-1)!.faulted, true);
  api.fault({ delayMs: 250 });
  const t0 = performance.now();
  assert.is((await call('/charges?from=2020-01-01&to=2020-01-02')).status, 200);
  assert.ok(performance.now() - t0 >= 240);
});

test('serves HTTPS with a self-signed certificate that clients must trust explicitly', async () => {
  const cert = await selfSignedCert();
  const tlsApi = await startRestApi({ user: 'u', password: 'p', tls: cert });
  const get = (ca?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${tlsApi.baseUrl}/admissions`, { ca, headers: { authorization: 'Basic ' + Buffer.from('u:p').toString('base64') } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  try {
    assert.ok(tlsApi.baseUrl.startsWith('https://127.0.0.1:'));
    assert.is(await get(cert.certPem), 200);
    const untrusted = await get().then(String, (e: NodeJS.ErrnoException) => e.code ?? 'error');
    assert.is(untrusted, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  } finally {
    await tlsApi.close();
  }
});

test.run();
