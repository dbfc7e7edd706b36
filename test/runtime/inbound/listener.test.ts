// The HL7-over-HTTPS listener against real TLS (certificates generated here), a real SQLite
// journal in a temp dir and real HTTP requests: identities, transport errors, ACK codes,
// duplicates, batches, charsets and `ack after_workflow`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpsRequest } from 'node:https';
import {
  adt, createPki, field, makePlan, msas, post, segment, sender, startTestRuntime, workflow,
  type TestPki, type TestRuntime,
} from './helpers.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';

let pki: TestPki;
let rt: TestRuntime;
let lab: IssuedCertificate;
let clinic: IssuedCertificate;
let foreignLab: IssuedCertificate;
const ROUTE_SRC = 'labs.hdc:20:3-20:30';

test.before(async () => {
  pki = await createPki();
  [lab, clinic, foreignLab] = await Promise.all([pki.client('lab'), pki.client('clinic'), pki.foreign('lab')]);
  const plan = makePlan([
    sender({
      name: 'lab', path: '/hl7/lab', identity: { kind: 'client_cert', subject: 'CN=lab' },
      accept: [{ code: 'ADT', trigger: 'A01' }, { code: 'ADT', trigger: 'A04' }, { code: 'ORU', trigger: 'R01' }],
      processingIds: ['P'], version: '2.5.1', strictVersion: true, maxBodyBytes: 4096,
      fields: [field('mrn', 'PID-3.1'), field('family', 'PID-5.1')],
      routes: [{ types: [{ code: 'ADT', trigger: '*' }], workflow: 'admit', src: ROUTE_SRC }],
    }),
    sender({ name: 'clinic', path: '/hl7/clinic', identity: { kind: 'client_cert', fingerprint: clinic.fingerprint256 } }),
    sender({ name: 'basic', path: '/hl7/basic', identity: { kind: 'basic', user: 'partner', password: 's3cret' } }),
    sender({ name: 'fac-a', path: '/hl7/shared', match: [{ path: pathOf('MSH-4'), op: '==', values: ['FAC_A'], src: ROUTE_SRC }] }),
    sender({ name: 'fac-b', path: '/hl7/shared', match: [{ path: pathOf('MSH-4'), op: '==', values: ['FAC_B', 'FAC_B2'], src: ROUTE_SRC }] }),
    sender({
      name: 'slow', path: '/hl7/slow', ack: { mode: 'after_workflow', timeoutMs: 400 },
      routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'admit', src: ROUTE_SRC }],
    }),
    sender({ name: 'latin', path: '/hl7/latin', fields: [field('family', 'PID-5.1')], routes: [{ types: [{ code: '*', trigger: '*' }], workflow: 'admit', src: ROUTE_SRC }] }),
  ], [workflow('admit')]);
  rt = await startTestRuntime(plan, pki);
});

test.after(async () => {
  await rt.stop();
});

function pathOf(text: string) {
  const [seg, f] = text.split('-');
  return { text, segment: seg!, field: Number(f) };
}

const url = (p: string) => rt.url + p;
const tlsAs = (cert?: IssuedCertificate) => ({ ...(cert ? { cert } : {}), ca: pki.ca.cert });
const countMessages = (sender: string, controlId: string) =>
  (rt.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE sender = ? AND control_id = ?').get(sender, controlId) as { n: number }).n;

test('mTLS partner gets AA; MSA-2 echoes MSH-10; raw bytes, ACK and a queued run are journaled', async () => {
  const body = adt({ controlId: 'OK-1' });
  const r = await post(url('/hl7/lab'), body, tlsAs(lab));
  assert.is(r.status, 200);
  assert.is(r.contentType, 'application/hl7-v2; charset=utf-8');
  const [msa] = msas(r.text);
  assert.equal([msa!.code, msa!.controlId], ['AA', 'OK-1']);
  const msh = segment(r.text, 'MSH')!;
  assert.equal([msh[2], msh[3], msh[4], msh[5], msh[8], msh[11]], ['HDC', 'HOSP', 'LABSYS', 'LABCORP', 'ACK^A01^ACK', '2.5.1']);
  const row = rt.db.prepare('SELECT * FROM messages WHERE control_id = ?').get('OK-1') as Record<string, unknown>;
  assert.is(row.sender, 'lab');
  assert.is(row.message_type, 'ADT');
  assert.is(row.trigger, 'A01');
  assert.is(row.status, 'accepted');
  assert.ok(Buffer.from(body).equals(row.raw as Buffer));
  assert.is(row.ack, r.text);
  const run = rt.db.prepare('SELECT * FROM workflow_runs WHERE message_id = ?').get(row.id) as Record<string, unknown>;
  assert.is(run.workflow, 'admit');
  assert.is(run.status, 'queued');
  const input = JSON.parse(run.input as string);
  assert.equal(input.fields, { mrn: '12345', family: 'DOE' });
  assert.equal({ ...input.message, receivedAt: 0 }, { type: 'ADT', trigger: 'A01', controlId: 'OK-1', version: '2.5.1', receivedAt: 0, sender: 'lab' });
});

test('no client certificate: 401 text/plain, nothing journaled', async () => {
  const r = await post(url('/hl7/lab'), adt({ controlId: 'NOCERT' }), tlsAs());
  assert.is(r.status, 401);
  assert.match(r.contentType, /^text\/plain/);
  assert.match(r.text, /client certificate/);
  assert.is(countMessages('lab', 'NOCERT'), 0);
});

test('a certificate with the right CN from another CA: 401', async () => {
  const r = await post(url('/hl7/lab'), adt({ controlId: 'FOREIGN' }), tlsAs(foreignLab));
  assert.is(r.status, 401);
  assert.is(countMessages('lab', 'FOREIGN'), 0);
});

test("another sender's certificate cannot post as this sender: 401", async () => {
  const r = await post(url('/hl7/lab'), adt({ controlId: 'IMPOSTOR' }), tlsAs(clinic));
  assert.is(r.status, 401);
  assert.match(r.text, /not accepted/);
  assert.is(countMessages('lab', 'IMPOSTOR'), 0);
  // …while the clinic's own endpoint (bound by fingerprint) takes it.
  const ok = await post(url('/hl7/clinic'), adt({ controlId: 'CLINIC-1' }), tlsAs(clinic));
  assert.is(msas(ok.text)[0]!.code, 'AA');
  const wrong = await post(url('/hl7/clinic'), adt({ controlId: 'CLINIC-2' }), tlsAs(lab));
  assert.is(wrong.status, 401);
});

test('Basic auth: missing or wrong credentials 401 with a challenge; right ones AA', async () => {
  const auth = (u: string, p: string) => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
  const none = await post(url('/hl7/basic'), adt(), tlsAs());
  assert.is(none.status, 401);
  assert.match(String(none.headers['www-authenticate']), /^Basic/);
  const bad = await post(url('/hl7/basic'), adt(), { ...tlsAs(), headers: auth('partner', 'wrong') });
  assert.is(bad.status, 401);
  const badUser = await post(url('/hl7/basic'), adt(), { ...tlsAs(), headers: auth('other', 's3cret') });
  assert.is(badUser.status, 401);
  const good = await post(url('/hl7/basic'), adt({ controlId: 'BASIC-1' }), { ...tlsAs(), headers: auth('partner', 's3cret') });
  assert.is(good.status, 200);
  assert.is(msas(good.text)[0]!.code, 'AA');
});

test('wrong or missing content type: 415', async () => {
  const json = await post(url('/hl7/lab'), adt(), { ...tlsAs(lab), contentType: 'application/json' });
  assert.is(json.status, 415);
  assert.match(json.contentType, /^text\/plain/);
  const missing = await post(url('/hl7/lab'), adt(), { ...tlsAs(lab), contentType: null });
  assert.is(missing.status, 415);
  const charset = await post(url('/hl7/lab'), adt(), { ...tlsAs(lab), contentType: 'application/hl7-v2; charset=klingon' });
  assert.is(charset.status, 415);
});

test("a body over the sender's limit: 413", async () => {
  const big = adt({ controlId: 'BIG', extra: 'NTE|1||' + 'x'.repeat(5000) });
  const r = await post(url('/hl7/lab'), big, tlsAs(lab));
  assert.is(r.status, 413);
  assert.is(countMessages('lab', 'BIG'), 0);
});

test('empty body, garbage and a truncated MSH: 400 text/plain', async () => {
  for (const body of ['', '   \r\n', 'hello world', '{"resourceType":"Patient"}', 'MSH|^~', 'PID|1||123']) {
    const r = await post(url('/hl7/lab'), body, tlsAs(lab));
    assert.is(r.status, 400, JSON.stringify(body));
    assert.match(r.contentType, /^text\/plain/);
  }
});

test('an MSH without MSH-9/MSH-10 is HL7: AE 101 with the location', async () => {
  const r = await post(url('/hl7/lab'), 'MSH|^~\\&|LABSYS|LABCORP|HDC|HOSP|20240101||ADT^A01|\rPID|1\r', tlsAs(lab));
  assert.is(r.status, 200);
  assert.is(msas(r.text)[0]!.code, 'AE');
  const err = segment(r.text, 'ERR')!;
  assert.is(err[2], 'MSH^1^10');
  assert.match(err[3]!, /^101\^/);
});

test('type, event, processing ID and version not accepted: AR 200/201/202/203, nothing journaled', async () => {
  const cases: [Parameters<typeof adt>[0], string][] = [
    [{ controlId: 'T1', type: 'ORM^O01^ORM_O01' }, '200'],
    [{ controlId: 'T2', type: 'ADT^A08^ADT_A01' }, '201'],
    [{ controlId: 'T3', processingId: 'T' }, '202'],
    [{ controlId: 'T4', version: '2.3' }, '203'],
  ];
  for (const [opts, code] of cases) {
    const r = await post(url('/hl7/lab'), adt(opts), tlsAs(lab));
    assert.is(r.status, 200);
    const [msa] = msas(r.text);
    assert.is(msa!.code, 'AR', code);
    assert.is(msa!.controlId, opts!.controlId);
    if (code === '203') assert.match(r.text, /\rMSA\|AR\|T4\|/); // before 2.5: MSA-3 and ERR-1
    else assert.match(segment(r.text, 'ERR')![3]!, new RegExp(`^${code}\\^`));
    assert.is(countMessages('lab', opts!.controlId!), 0);
  }
  // Enhanced mode answers the commit-level CR.
  const enhanced = await post(url('/hl7/lab'), adt({ controlId: 'T5', type: 'ORM^O01', msh15: 'AL', msh16: 'NE' }), tlsAs(lab));
  assert.is(msas(enhanced.text)[0]!.code, 'CR');
  const accepted = await post(url('/hl7/lab'), adt({ controlId: 'T6', msh15: 'AL', msh16: 'AL' }), tlsAs(lab));
  assert.is(msas(accepted.text)[0]!.code, 'CA');
});

test('a resend returns the original ACK and is not processed twice', async () => {
  const body = adt({ controlId: 'DUP-1' });
  const first = await post(url('/hl7/lab'), body, tlsAs(lab));
  const again = await post(url('/hl7/lab'), body, tlsAs(lab));
  assert.is(again.status, 200);
  assert.is(again.text, first.text);
  // Concurrent resends of a new message: one row, one run, the same ACK for all.
  const burst = await Promise.all(Array.from({ length: 8 }, () => post(url('/hl7/lab'), adt({ controlId: 'DUP-2' }), tlsAs(lab))));
  assert.is(new Set(burst.map((b) => b.text)).size, 1);
  assert.is(countMessages('lab', 'DUP-1'), 1);
  assert.is(countMessages('lab', 'DUP-2'), 1);
  const runs = rt.db.prepare('SELECT COUNT(*) AS n FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id IN (?, ?)').get('DUP-1', 'DUP-2') as { n: number };
  assert.is(runs.n, 2);
});

test('an ACK posted to us is not acknowledged: 400', async () => {
  const ack = 'MSH|^~\\&|LABSYS|LABCORP|HDC|HOSP|20240101||ACK^A01^ACK|ACK-9|P|2.5.1\rMSA|AA|X1\r';
  const r = await post(url('/hl7/lab'), ack, tlsAs(lab));
  assert.is(r.status, 400);
  assert.match(r.text, /never acknowledged/);
  assert.not.match(r.text, /MSA/);
  assert.is(countMessages('lab', 'ACK-9'), 0);
});

test('content types: the response uses the request type and charset; Content-Type charset wins', async () => {
  const latin = Buffer.from(adt({ controlId: 'LATIN-1' }).replace('DOE^JOHN', 'MÜLLER^JÖRG'), 'latin1');
  const r = await post(url('/hl7/latin'), latin, { ...tlsAs(), contentType: 'x-application/hl7-v2+er7; charset=ISO-8859-1' });
  assert.is(r.status, 200);
  assert.is(r.contentType, 'x-application/hl7-v2+er7; charset=ISO-8859-1');
  assert.is(msas(r.text)[0]!.code, 'AA');
  const row = rt.db.prepare(`SELECT m.charset, m.raw, r.input FROM messages m JOIN workflow_runs r ON r.message_id = m.id WHERE m.control_id = 'LATIN-1'`).get() as { charset: string; raw: Buffer; input: string };
  assert.is(row.charset, 'iso-8859-1');
  assert.ok(row.raw.equals(latin));
  assert.is(JSON.parse(row.input).fields.family, 'MÜLLER');
  for (const type of ['application/hl7-v2+er7', 'text/plain']) {
    const t = await post(url('/hl7/latin'), adt(), { ...tlsAs(), contentType: type });
    assert.is(t.status, 200);
    assert.is(t.contentType, `${type}; charset=utf-8`);
  }
  // MSH-18 is used when Content-Type names no charset.
  const msh18 = Buffer.from(adt({ controlId: 'LATIN-2' }).replace('|||', '|||||8859/1|').replace('DOE^JOHN', 'GÖTZ^ÅSA'), 'latin1');
  const m = await post(url('/hl7/latin'), msh18, tlsAs());
  assert.is(msas(m.text)[0]!.code, 'AA');
  const input = rt.db.prepare(`SELECT r.input FROM messages m JOIN workflow_runs r ON r.message_id = m.id WHERE m.control_id = 'LATIN-2'`).get() as { input: string };
  assert.is(JSON.parse(input.input).fields.family, 'GÖTZ');
});

test('a batch (BHS…BTS) is answered with a batch of ACKs; a concatenation with concatenated ACKs', async () => {
  const batch = 'BHS|^~\\&|LABSYS|LABCORP|HDC|HOSP|20240101||||B-77\r' + adt({ controlId: 'B1' }) + adt({ controlId: 'B2', type: 'ORM^O01' }) + adt({ controlId: 'B3' }) + 'BTS|3\r';
  const r = await post(url('/hl7/lab'), batch, tlsAs(lab));
  assert.is(r.status, 200);
  const lines = r.text.split('\r').filter(Boolean);
  assert.ok(lines[0]!.startsWith('BHS|^~\\&|HDC|HOSP|LABSYS|LABCORP|'));
  assert.is(lines[0]!.split('|')[11], 'B-77');
  assert.is(lines[lines.length - 1], 'BTS|3');
  assert.equal(msas(r.text).map((m) => `${m.code}:${m.controlId}`), ['AA:B1', 'AR:B2', 'AA:B3']);
  assert.is(countMessages('lab', 'B1') + countMessages('lab', 'B3'), 2);
  const concat = await post(url('/hl7/lab'), (adt({ controlId: 'C1' }) + adt({ controlId: 'C2' })).replace(/\r/g, '\r\n'), tlsAs(lab));
  assert.equal(msas(concat.text).map((m) => `${m.code}:${m.controlId}`), ['AA:C1', 'AA:C2']);
  assert.ok(concat.text.startsWith('MSH|'));
});

test('senders sharing a path are told apart by MSH predicates; no match is AR', async () => {
  const a = await post(url('/hl7/shared'), adt({ controlId: 'S1', facility: 'FAC_A' }), tlsAs());
  const b = await post(url('/hl7/shared'), adt({ controlId: 'S1', facility: 'FAC_B2' }), tlsAs());
  assert.is(msas(a.text)[0]!.code, 'AA');
  assert.is(msas(b.text)[0]!.code, 'AA');
  assert.is(countMessages('fac-a', 'S1'), 1);
  assert.is(countMessages('fac-b', 'S1'), 1);
  const none = await post(url('/hl7/shared'), adt({ controlId: 'S2', facility: 'FAC_C' }), tlsAs());
  assert.is(msas(none.text)[0]!.code, 'AR');
  assert.match(none.text, /sender not recognised/);
});

test('ack after_workflow: the workflow outcome decides the ACK; on timeout the commit ACK', async () => {
  const settle = (status: 'done' | 'rejected' | 'dead', outcome?: { code: 'AE' | 'AR'; text: string }) => {
    const onEnqueued = (e: { runIds: number[] }) => {
      rt.events.off('enqueued', onEnqueued);
      setTimeout(() => rt.events.emit('finished', { runId: e.runIds[0]!, status, ...(outcome ? { outcome } : {}) }), 20);
    };
    rt.events.on('enqueued', onEnqueued);
  };
  settle('rejected', { code: 'AE', text: 'unknown patient' });
  const ae = await post(url('/hl7/slow'), adt({ controlId: 'W1' }), tlsAs());
  assert.is(msas(ae.text)[0]!.code, 'AE');
  assert.match(ae.text, /unknown patient/);
  const stored = rt.db.prepare(`SELECT ack, status FROM messages WHERE sender = 'slow' AND control_id = 'W1'`).get() as { ack: string; status: string };
  assert.is(stored.ack, ae.text);
  assert.is(stored.status, 'rejected');
  settle('done');
  const aa = await post(url('/hl7/slow'), adt({ controlId: 'W2', msh15: 'AL', msh16: 'AL' }), tlsAs());
  assert.is(msas(aa.text)[0]!.code, 'AA'); // the application-level ACK once the workflow ran
  const started = Date.now();
  const late = await post(url('/hl7/slow'), adt({ controlId: 'W3' }), tlsAs());
  assert.ok(Date.now() - started >= 380);
  assert.is(msas(late.text)[0]!.code, 'AA');
  const resend = await post(url('/hl7/slow'), adt({ controlId: 'W1' }), tlsAs());
  assert.is(resend.text, ae.text);
});

test('/health, /ready, unknown paths and methods', async () => {
  const get = (p: string, method = 'GET') => new Promise<{ status: number; body: string }>((resolve, reject) => {
    httpsRequest(url(p), { method, ca: pki.ca.cert, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject).end();
  });
  assert.equal(await get('/health'), { status: 200, body: '{"status":"alive"}' });
  assert.equal(await get('/ready'), { status: 200, body: '{"status":"ready"}' });
  assert.is((await get('/nowhere')).status, 404);
  assert.is((await get('/hl7/lab')).status, 405);
});

test.run();
