// The dashboard over HTTP: sign-in through the users table, roles from groups, what a viewer may
// not do (content, audit log, replay — by direct URL and by forged POST), CSRF, foreign origins,
// expired and missing sessions, the strict CSP, and the audit log of an operator's views and replays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addUser, DASHBOARD_BLOCK, hl7, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';
import { DashboardClient } from './dashboard-client.ts';

let api: PartnerApi;
let m: Monitored;
let base: string;
let okMessage: number;
let deadRun: number;
let deadMessage: number;

test.before(async () => {
  api = await startPartnerApi();
  m = await startMonitored(monitoredPlan(api.url, DASHBOARD_BLOCK));
  base = m.module.dashboardUrl!;
  await addUser(m, 'vera', 'viewer-pass', ['integration-viewers']);
  await addUser(m, 'otto', 'operator-pass', ['integration-team', 'integration-viewers']);
  await addUser(m, 'nora', 'nobody-pass', ['cafeteria']);
  let settled = m.settled(1);
  await m.send('/hl7/lab', hl7({ family: 'SMITH', controlId: 'OK-1' }));
  await settled;
  api.broken = true;
  settled = m.settled(1);
  await m.send('/hl7/lab', hl7({ family: 'TAYLOR', controlId: 'DEAD-1' }));
  await settled;
  api.broken = false;
  const row = (cid: string) => m.rt.db.prepare('SELECT m.id AS messageId, r.id AS runId, r.status FROM messages m JOIN workflow_runs r ON r.message_id = m.id WHERE m.control_id = ?').get(cid) as { messageId: number; runId: number; status: string };
  okMessage = row('OK-1').messageId;
  const dead = row('DEAD-1');
  assert.is(dead.status, 'dead');
  deadRun = dead.runId;
  deadMessage = dead.messageId;
});

test.after(async () => {
  await m?.stop();
  await api?.close();
});

test('without a session: pages redirect to sign-in, data and actions answer 401', async () => {
  const c = new DashboardClient(base);
  const home = await c.get('/');
  assert.is(home.status, 302);
  assert.is(home.location, '/login');
  assert.is((await c.get('/overview.json')).status, 401);
  assert.is((await c.get('/events')).status, 401);
  assert.is((await c.post(`/runs/${deadRun}/replay`, { confirm: 'yes' })).status, 401);
  const login = await c.get('/login');
  assert.is(login.status, 200);
  assert.match(String(login.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.is(login.headers['x-frame-options'], 'DENY');
});

test('sign-in: wrong password refused; a user without a dashboard role is refused', async () => {
  const c = new DashboardClient(base);
  assert.is((await c.signIn('vera', 'wrong')).status, 401);
  const nobody = await c.signIn('nora', 'nobody-pass');
  assert.is(nobody.status, 403);
  assert.match(nobody.text, /no dashboard role/);
  assert.not.ok(c.cookies.has('hdc-dashboard'));
  // The sign-in form's own CSRF field is required.
  const bare = new DashboardClient(base);
  assert.is((await bare.post('/login', { username: 'vera', password: 'viewer-pass' })).status, 403);
});

test('viewer: counts and masked content; no audit log, no replay (direct URL, forged POST)', async () => {
  const c = new DashboardClient(base);
  const signed = await c.signIn('vera', 'viewer-pass');
  assert.is(signed.status, 302);
  const cookie = String(signed.headers['set-cookie']);
  assert.match(cookie, /hdc-dashboard=[^;]+;.*httponly/i);
  assert.match(cookie, /samesite=lax/i);
  const home = await c.get('/');
  assert.is(home.status, 200);
  assert.match(home.text, /id="role">viewer</);
  const msg = await c.get(`/messages/${okMessage}`);
  assert.is(msg.status, 200);
  assert.not.ok(msg.text.includes('SMITH'), 'the family name is masked');
  assert.not.ok(msg.text.includes('19800101'));
  assert.match(msg.text, /PID\|•••/);
  assert.match(msg.text, /OK-1/, 'the control ID identifies the message');
  const dead = await c.get(`/messages/${deadMessage}`);
  assert.not.ok(dead.text.includes('/replay'), 'no replay button for viewers');
  assert.is((await c.get('/audit')).status, 403);
  assert.is((await c.get('/audit.csv')).status, 403);
  // A forged POST with the viewer's own, valid CSRF token is still refused: the role decides.
  const csrf = await c.csrf();
  const forged = await c.post(`/runs/${deadRun}/replay`, { csrf, confirm: 'yes' });
  assert.is(forged.status, 403);
  assert.is((m.rt.db.prepare('SELECT status FROM workflow_runs WHERE id = ?').get(deadRun) as { status: string }).status, 'dead');
  const refused = await m.module.audit.list({ action: 'refused' });
  assert.ok(refused.some((e) => e.username === 'vera' && e.target === `POST /runs/${deadRun}/replay`));
  // Viewers' masked views are not content views: nothing to audit.
  assert.not.ok((await m.module.audit.list({ action: 'view-message' })).some((e) => e.username === 'vera'));
});

test('operator: CSRF missing or from another origin refused; replay works and is audited', async () => {
  const c = new DashboardClient(base);
  assert.is((await c.signIn('otto', 'operator-pass')).status, 302);
  const msg = await c.get(`/messages/${deadMessage}`);
  assert.match(msg.text, /TAYLOR/, 'operators see content');
  assert.match(msg.text, new RegExp(`action="/runs/${deadRun}/replay"`));
  assert.match(msg.text, /monitoring\.hdc:6/, 'the failing step names its .hdc line');
  assert.ok((await m.module.audit.list({ action: 'view-message' })).some((e) => e.username === 'otto' && e.target === `message ${deadMessage}`));
  const noCsrf = await c.post(`/runs/${deadRun}/replay`, { confirm: 'yes' });
  assert.is(noCsrf.status, 403);
  assert.match(noCsrf.text, /CSRF/);
  const csrf = await c.csrf();
  const foreign = await c.post(`/runs/${deadRun}/replay`, { csrf, confirm: 'yes' }, { Origin: 'http://evil.example' });
  assert.is(foreign.status, 403);
  assert.is((m.rt.db.prepare('SELECT status FROM workflow_runs WHERE id = ?').get(deadRun) as { status: string }).status, 'dead');
  const settled = m.settled(1);
  const ok = await c.post(`/runs/${deadRun}/replay`, { csrf, confirm: 'yes' }, { Origin: base });
  assert.is(ok.status, 303);
  assert.is(ok.location, `/messages/${deadMessage}#run-${deadRun}`);
  await settled;
  assert.is((m.rt.db.prepare('SELECT status FROM workflow_runs WHERE id = ?').get(deadRun) as { status: string }).status, 'done');
  const replays = m.rt.db.prepare('SELECT by FROM run_replays WHERE run_id = ?').all(deadRun) as Array<{ by: string }>;
  assert.equal(replays.map((r) => r.by), ['dashboard:otto']);
  const audit = await c.get('/audit');
  assert.is(audit.status, 200);
  assert.match(audit.text, new RegExp(`replay-run</td><td class="target">run ${deadRun}</td><td>queued again`));
  const csv = await c.get('/audit.csv');
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(csv.text, new RegExp(`otto,operator,replay-run,run ${deadRun},queued again`));
  // Replaying a run that is done now is refused.
  assert.is((await c.post(`/runs/${deadRun}/replay`, { csrf, confirm: 'yes' })).status, 409);
});

test('message replay: operators only, confirmed and CSRF-checked; a new run from the recorded input, audited', async () => {
  const runs = (id: number) => m.rt.db.prepare('SELECT id, status FROM workflow_runs WHERE message_id = ? ORDER BY id').all(id) as Array<{ id: number; status: string }>;
  const before = runs(okMessage);
  const viewer = new DashboardClient(base);
  await viewer.signIn('vera', 'viewer-pass');
  assert.is((await viewer.post(`/messages/${okMessage}/replay`, { csrf: await viewer.csrf(), confirm: 'yes' })).status, 403);
  assert.is((await viewer.get(`/messages/${okMessage}/replay`)).status, 405, 'no replay by direct URL');
  const c = new DashboardClient(base);
  await c.signIn('otto', 'operator-pass');
  assert.match((await c.get(`/messages/${okMessage}`)).text, new RegExp(`action="/messages/${okMessage}/replay"`));
  assert.is((await c.post(`/messages/${okMessage}/replay`, { confirm: 'yes' })).status, 403, 'no CSRF token');
  const csrf = await c.csrf();
  assert.is((await c.post(`/messages/${okMessage}/replay`, { csrf, confirm: 'yes' }, { Origin: 'http://evil.example' })).status, 403);
  assert.is((await c.post(`/messages/${okMessage}/replay`, { csrf })).status, 400, 'not confirmed');
  assert.equal(runs(okMessage), before, 'nothing replayed so far');
  const settled = m.settled(1);
  const ok = await c.post(`/messages/${okMessage}/replay`, { csrf, confirm: 'yes' }, { Origin: base });
  assert.is(ok.status, 303);
  await settled;
  const after = runs(okMessage);
  assert.is(after.length, before.length + 1);
  const fresh = after[after.length - 1]!;
  assert.is(ok.location, `/messages/${okMessage}#run-${fresh.id}`);
  assert.is(fresh.status, 'done');
  assert.equal(m.rt.db.prepare('SELECT by, from_start FROM run_replays WHERE run_id = ?').all(fresh.id), [{ by: 'dashboard:otto', from_start: 1 }]);
  assert.ok((await m.module.audit.list({ action: 'replay-message' })).some((e) => e.username === 'otto' && e.target === `message ${okMessage}` && e.outcome === `new run ${fresh.id} queued`));
  // A message that started no workflow, and one whose recorded input retention purged, are refused (and audited).
  assert.is((await m.send('/hl7/lab', hl7({ type: 'ORU^R01^ORU_R01', controlId: 'NO-RUN-1' }))).code, 'AA');
  const noRun = (m.rt.db.prepare("SELECT id FROM messages WHERE control_id = 'NO-RUN-1'").get() as { id: number }).id;
  assert.not.match((await c.get(`/messages/${noRun}`)).text, /replay-message/);
  const none = await c.post(`/messages/${noRun}/replay`, { csrf, confirm: 'yes' });
  assert.is(none.status, 409);
  assert.match(none.text, /started no workflow run/);
  const input = m.rt.db.prepare('SELECT input FROM workflow_runs WHERE id = ?').pluck().get(fresh.id);
  m.rt.db.prepare('UPDATE workflow_runs SET input = NULL WHERE id = ?').run(fresh.id);
  const purged = await c.post(`/messages/${okMessage}/replay`, { csrf, confirm: 'yes' });
  assert.is(purged.status, 409);
  assert.match(purged.text, /purged by retention/);
  assert.is(runs(okMessage).length, after.length);
  m.rt.db.prepare('UPDATE workflow_runs SET input = ? WHERE id = ?').run(input, fresh.id);
  assert.ok((await m.module.audit.list({ action: 'replay-message' })).some((e) => e.target === `message ${noRun}` && /^not replayed/.test(e.outcome)));
});

test('an idle session expires; signing out ends the session', async () => {
  const c = new DashboardClient(base);
  await c.signIn('vera', 'viewer-pass');
  assert.is((await c.get('/')).status, 200);
  m.rt.db.prepare("UPDATE monitoring_sessions SET last_seen_at = last_seen_at - 9 * 3600000 WHERE username = 'vera'").run();
  const expired = await c.get('/');
  assert.is(expired.status, 302);
  assert.is(expired.location, '/login?expired=1');
  assert.match((await c.get('/login?expired=1')).text, /session expired/);
  await c.signIn('vera', 'viewer-pass');
  const csrf = await c.csrf();
  assert.is((await c.post('/logout', { csrf })).status, 303);
  assert.is((await c.get('/')).status, 302);
});

test('behind an HTTPS reverse proxy: Secure cookies, and the proxy\'s origin is the one POSTs must come from', async () => {
  const proxied = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'monitor.example.org' };
  const c = new DashboardClient(base);
  const page = await c.send('GET', '/login', undefined, proxied);
  assert.match(String(page.headers['set-cookie']), /; secure/i);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
  const signed = await c.send('POST', '/login', { csrf, username: 'otto', password: 'operator-pass' }, proxied);
  assert.is(signed.status, 302);
  assert.match(String(signed.headers['set-cookie']), /hdc-dashboard=[^;]+;.*secure/i);
  const token = /name="csrf" value="([^"]+)"/.exec((await c.send('GET', '/', undefined, proxied)).text)![1]!;
  const plain = await c.send('POST', `/runs/${deadRun}/replay`, { csrf: token, confirm: 'yes' }, { ...proxied, Origin: base });
  assert.is(plain.status, 403, 'the loopback origin is not the proxied one');
});

test('the numbers behind the charts export as CSV', async () => {
  const c = new DashboardClient(base);
  assert.is((await c.get('/export.csv')).status, 401);
  await c.signIn('vera', 'viewer-pass');
  const csv = await c.get('/export.csv?range=24h');
  assert.is(csv.status, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  assert.is(lines[0], 'start,sender,message_type,ack_code,messages,mean_latency_ms');
  const lab = lines.slice(1).map((l) => l.split(',')).filter((f) => f[1] === 'lab' && f[2] === 'ADT^A01' && f[3] === 'AA');
  assert.is(lab.reduce((n, f) => n + Number(f[4]), 0), 2);
  assert.not.ok(csv.text.includes('OK-1'), 'no control IDs');
});

test('search by sender, type, control ID and status', async () => {
  const c = new DashboardClient(base);
  await c.signIn('vera', 'viewer-pass');
  const ids = (text: string) => [...text.matchAll(/<tr data-id="(\d+)">/g)].map((x) => Number(x[1]));
  assert.equal(ids((await c.get('/messages?control_id=OK-1')).text), [okMessage]);
  assert.equal(ids((await c.get('/messages?sender=lab&type=ADT%5EA01')).text), [deadMessage, okMessage]);
  assert.equal(ids((await c.get('/messages?sender=pharmacy')).text), []);
  assert.equal(ids((await c.get(`/messages?from=${new Date(Date.now() + 3_600_000).toISOString().slice(0, 16)}`)).text), []);
  // A mapped field's value is for operators only, and the search is audited without the value.
  assert.is((await c.get('/messages?field=family&value=SMITH')).status, 403);
  const op = new DashboardClient(base);
  await op.signIn('otto', 'operator-pass');
  assert.equal(ids((await op.get('/messages?field=family&value=SMITH')).text), [okMessage]);
  assert.equal(ids((await op.get('/messages?field=family&value=NOBODY')).text), []);
  assert.is((await op.get('/messages?field=family%27)--&value=x')).status, 400);
  const searched = (await m.module.audit.list({ action: 'search-field' }));
  assert.ok(searched.some((e) => e.username === 'otto' && e.target === 'field family'));
  assert.not.ok(JSON.stringify(searched).includes('SMITH'));
});

test.run();
