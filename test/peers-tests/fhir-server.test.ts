import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Bundle, Claim, Encounter, Patient } from '@medplum/fhirtypes';
import { startFhirServer, type FhirServer } from '../peers/fhir-server.ts';
import { syntheaBundleFiles, syntheaPatients } from '../peers/synthea.ts';

let fhir: FhirServer;
const patients = syntheaPatients();
const fred = patients.find((p) => p.file.includes('Fred_Beer'))!;
const fredBundle = JSON.parse(readFileSync(fred.file, 'utf8')) as Bundle;
const fredEncounters = fredBundle.entry!.map((e) => e.resource).filter((r): r is Encounter => r?.resourceType === 'Encounter');

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: any; res: Response }> {
  const res = await fetch(path.startsWith('http') ? path : `${fhir.baseUrl}/${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, res };
}

test.before(async () => {
  fhir = await startFhirServer({ seed: 'synthea' });
});
test.after(() => fhir.close());

test('seeds all 10 Synthea bundles quickly, keeping the Synthea ids', async () => {
  assert.is(syntheaBundleFiles().length, 10);
  assert.ok(fhir.seedMs < 5000, `seeding took ${fhir.seedMs} ms`);
  const { body } = await get('Patient?_count=100');
  assert.is(body.total, 8);
  const ids = body.entry.map((e: { resource: Patient }) => e.resource.id).sort();
  assert.equal(ids, patients.map((p) => p.id).sort());
  const orgs = await get('Organization?_count=0');
  const hospital = JSON.parse(readFileSync(syntheaBundleFiles()[0], 'utf8')) as Bundle;
  // Organisations repeated in patient bundles are stored once (PUT with the Synthea id).
  assert.ok(orgs.body.total >= hospital.entry!.length);
});

test('Patient?identifier=system|value finds the patient by MRN', async () => {
  const { status, body, res } = await get(`Patient?identifier=${encodeURIComponent(`${fred.mrn.system}|${fred.mrn.value}`)}`);
  assert.is(status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/fhir\+json/);
  assert.is(body.resourceType, 'Bundle');
  assert.is(body.type, 'searchset');
  assert.is(body.total, 1);
  assert.is(body.entry[0].resource.id, fred.id);
  assert.is(body.entry[0].fullUrl, `${fhir.baseUrl}/Patient/${fred.id}`);
  const none = await get('Patient?identifier=http://hospital.smarthealthit.org|no-such-mrn');
  assert.is(none.body.total, 0);
});

test('Encounter?patient=Patient/<id>&status=… resolves the urn:uuid references', async () => {
  const { body } = await get(`Encounter?patient=Patient/${fred.id}&status=finished&_count=100`);
  assert.is(body.total, fredEncounters.filter((e) => e.status === 'finished').length);
  for (const e of body.entry) assert.is(e.resource.subject.reference, `Patient/${fred.id}`);
  const planned = await get(`Encounter?patient=Patient/${fred.id}&status=planned`);
  assert.is(planned.body.total, 0);
  const dated = await get(`Encounter?patient=Patient/${fred.id}&date=ge2015-01-01&_count=100`);
  const expected = fredEncounters.filter((e) => e.period!.end! >= '2015-01-01').length;
  assert.is(dated.body.total, expected);
});

test('Claim?encounter=Encounter/<id> finds the claims of an encounter', async () => {
  const enc = fredEncounters[0];
  const expected = fredBundle
    .entry!.map((e) => e.resource)
    .filter((r): r is Claim => r?.resourceType === 'Claim')
    .filter((c) => c.item?.some((i) => i.encounter?.some((ref) => ref.reference === `urn:uuid:${enc.id}`)));
  const { body } = await get(`Claim?encounter=Encounter/${enc.id}`);
  assert.ok(expected.length > 0);
  assert.is(body.total, expected.length);
  assert.equal(body.entry.map((e: { resource: Claim }) => e.resource.id).sort(), expected.map((c) => c.id).sort());
});

test('search pages with next links (_count) until every match was seen', async () => {
  const first = await get(`Observation?patient=Patient/${fred.id}&_count=25`);
  const total = first.body.total;
  assert.ok(total > 50);
  const seen = new Set<string>();
  let page = first.body;
  let pages = 0;
  for (;;) {
    pages++;
    for (const e of page.entry ?? []) seen.add(e.resource.id);
    const next = page.link.find((l: { relation: string }) => l.relation === 'next');
    if (!next) break;
    page = (await get(next.url)).body;
  }
  assert.is(seen.size, total);
  assert.is(pages, Math.ceil(total / 25));
  // Without _count the server pages by default.
  const dflt = await get(`Observation?patient=Patient/${fred.id}`);
  assert.is(dflt.body.entry.length, 20);
  assert.ok(dflt.body.link.some((l: { relation: string }) => l.relation === 'next'));
});

test('POST _search with a form body searches too', async () => {
  const { status, body } = await get('Patient/_search', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `identifier=${encodeURIComponent(`${fred.mrn.system}|${fred.mrn.value}`)}`,
  });
  assert.is(status, 200);
  assert.is(body.total, 1);
});

test('/metadata is an R4 CapabilityStatement', async () => {
  const { status, body } = await get('metadata');
  assert.is(status, 200);
  assert.is(body.resourceType, 'CapabilityStatement');
  assert.is(body.fhirVersion, '4.0.1');
  const types = body.rest[0].resource.map((r: { type: string }) => r.type);
  assert.is(types.length, 147);
  assert.not.ok(types.includes('Project'), 'Medplum-only types are not exposed');
  const enc = body.rest[0].resource.find((r: { type: string }) => r.type === 'Encounter');
  assert.ok(enc.searchParam.some((p: { name: string }) => p.name === 'patient'));
  const smart = await get('.well-known/smart-configuration');
  assert.is(smart.status, 404);
});

test('create, read, update, delete, with ETag and Location', async () => {
  const created = await get('Patient', {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Peer', given: ['Test'] }] }),
  });
  assert.is(created.status, 201);
  const id = created.body.id;
  assert.match(created.res.headers.get('location')!, new RegExp(`/fhir/Patient/${id}/_history/`));
  assert.ok(created.res.headers.get('etag'));
  const read = await get(`Patient/${id}`);
  assert.is(read.body.name[0].family, 'Peer');
  const updated = await get(`Patient/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ ...read.body, gender: 'other' }),
  });
  assert.is(updated.status, 200);
  assert.is(updated.body.gender, 'other');
  assert.is.not(updated.body.meta.versionId, read.body.meta.versionId);
  const del = await get(`Patient/${id}`, { method: 'DELETE' });
  assert.is(del.status, 200);
  assert.is((await get(`Patient/${id}`)).status, 404);
  assert.is((await get('Project')).status, 404);
});

test('conditional create (If-None-Exist) and conditional update', async () => {
  const ident = 'urn:test:peer|cond-1';
  const make = () =>
    get('Patient', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=${ident}` },
      body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:test:peer', value: 'cond-1' }] }),
    });
  const a = await make();
  const b = await make();
  assert.is(a.status, 201);
  assert.is(b.status, 200);
  assert.is(b.body.id, a.body.id);
  const upd = await get(`Patient?identifier=${ident}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:test:peer', value: 'cond-1' }], active: false }),
  });
  assert.is(upd.status, 200);
  assert.is(upd.body.id, a.body.id);
  assert.is(upd.body.active, false);
  const fresh = await get('Patient?identifier=urn:test:peer|cond-2', {
    method: 'PUT',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: 'urn:test:peer', value: 'cond-2' }] }),
  });
  assert.is(fresh.status, 201);
});

test('fault injection: status once, 429 with Retry-After, delay, filtered by path', async () => {
  fhir.fault({ status: 503, times: 1 });
  assert.is((await get('metadata')).status, 503);
  assert.is((await get('metadata')).status, 200);

  fhir.fault({ status: 429, retryAfter: 1, times: 2, pathPrefix: '/fhir/Encounter' });
  assert.is((await get('Patient?_count=1')).status, 200);
  const limited = await get('Encounter?_count=1');
  assert.is(limited.status, 429);
  assert.is(limited.res.headers.get('retry-after'), '1');
  assert.is((await get('Encounter?_count=1')).status, 429);
  assert.is((await get('Encounter?_count=1')).status, 200);

  fhir.fault({ delayMs: 300, method: 'GET' });
  const t0 = performance.now();
  assert.is((await get('Patient?_count=1')).status, 200);
  assert.ok(performance.now() - t0 >= 290);

  fhir.fault({ dropConnection: true });
  const dropped = await get('metadata').then(
    () => false,
    () => true,
  );
  assert.ok(dropped, 'the connection was dropped');
  const last = fhir.requests.at(-1)!;
  assert.is(last.faulted, true);
});

test('extra routes run before the router (e.g. a Bulk Data kick-off)', async () => {
  const bulk = await startFhirServer({
    routes: ({ method, path, res, baseUrl }) => {
      if (method !== 'GET' || path !== '$export') return false;
      res.writeHead(202, { 'content-location': `${baseUrl}/bulk-status/1` });
      res.end();
      return true;
    },
  });
  try {
    const res = await fetch(`${bulk.baseUrl}/$export`, { headers: { prefer: 'respond-async' } });
    assert.is(res.status, 202);
    assert.is(res.headers.get('content-location'), `${bulk.baseUrl}/bulk-status/1`);
    assert.is(bulk.requests[0].status, 202);
    assert.is((await fetch(`${bulk.baseUrl}/Patient`)).status, 200);
  } finally {
    await bulk.close();
  }
});

test('bearer tokens: 401 with WWW-Authenticate, scopes enforced, authorization redacted', async () => {
  const tokens: Record<string, string> = {
    good: 'system/Patient.rs system/Encounter.read',
    patientonly: 'system/Patient.r',
  };
  const secured = await startFhirServer({
    seed: [fred.file],
    verifyToken: async (t) => (tokens[t] ? { scope: tokens[t] } : null),
    smartConfig: { token_endpoint: 'http://127.0.0.1:1/token', capabilities: [] },
  });
  try {
    const call = (path: string, token?: string) =>
      fetch(`${secured.baseUrl}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const anon = await call('Patient');
    assert.is(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate')!, /^Bearer/);
    const bad = await call('Patient', 'nope');
    assert.is(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate')!, /invalid_token/);
    assert.is((await call('metadata')).status, 200);
    const smart = await call('.well-known/smart-configuration');
    assert.is(smart.status, 200);
    assert.is((await smart.json()).token_endpoint, 'http://127.0.0.1:1/token');
    assert.is((await call(`Patient/${fred.id}`, 'good')).status, 200);
    assert.is((await call(`Encounter?patient=Patient/${fred.id}`, 'good')).status, 200);
    assert.is((await call('Claim', 'good')).status, 403);
    assert.is((await call(`Patient/${fred.id}`, 'patientonly')).status, 200);
    assert.is((await call('Patient', 'patientonly')).status, 403, 'read does not grant search');
    const rec = secured.requests.find((r) => r.auth === 'Bearer')!;
    assert.ok(rec);
    assert.is(rec.headers.authorization, undefined);
    assert.not.match(JSON.stringify(secured.requests), /good/);
  } finally {
    await secured.close();
  }
});

test.run();
