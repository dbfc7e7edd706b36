// REST responses read as the API declares (json, xml, text) and declared `response { … }` shapes,
// against the real REST peer's scheduling service: what the workflow then sends is asserted as
// the peer received it, and a response that does not match fails the run naming the field and
// the .hdc line of its declaration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSources } from '../../../../compiler/api.ts';
import type { Plan } from '../../../../plan/plan.types.ts';
import { Engine } from '../../../../runtime/workflows/engine.ts';
import { RunEvents } from '../../../../runtime/journal/run-events.ts';
import { startRestApi, type RestApi } from '../../../peers/rest-api.ts';
import { slotsFor, slotsXml } from '../../../peers/scheduling-routes.ts';
import { enqueue, tempDb, type TempDb } from '../fixtures.ts';

let peer: RestApi;
let t: TempDb;
const FILE = 'flows/schedule.hdc';

test.before(async () => {
  peer = await startRestApi({ user: 'hdc', password: 'sched-pass' });
  process.env.SCHED_TEST_PASS = 'sched-pass';
});
test.after(async () => {
  await peer.close();
});
test.before.each(() => {
  t = tempDb();
  peer.requests.length = 0;
  peer.bookings.length = 0;
  peer.clearFaults();
});
test.after.each(() => t.dispose());

/** The workflow's body starts on line 12 of the file. */
function compile(body: string): Plan {
  const source = `auth sched_auth basic { user "hdc" password env("SCHED_TEST_PASS") }
api sched rest "${peer.baseUrl}" { auth sched_auth retry 1 }
api legacy rest "${peer.baseUrl}" { auth sched_auth format xml retry 1 }
api plain rest "${peer.baseUrl}" { auth sched_auth format text retry 2 backoff 10ms }
sender siu {
  path "/hl7/siu"
  accept SIU^S12
  fields { date = SCH-11.4 as date }
  on SIU^S12 run book
}
workflow book {
${body}
}
`;
  const r = compileSources(new Map([[FILE, source]]));
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.range.start.line}: ${d.summary}`), []);
  return r.plan!;
}

async function run(plan: Plan, fields: Record<string, unknown>, maxAttempts = 1) {
  const events = new RunEvents();
  const engine = new Engine({ db: t.db, plan, events, maxAttempts, retryBaseMs: 20, random: () => 0.5 });
  engine.start();
  const [id] = enqueue(t.journal, [{ workflow: 'book', fields }]);
  const finished = events.waitForFinished(id, 15_000);
  engine.pump();
  const e = await finished;
  await engine.stop();
  const row = t.db.prepare('SELECT error FROM workflow_runs WHERE id = ?').get(id) as { error: string | null };
  const steps = Object.fromEntries(
    (t.db.prepare('SELECT step_id, result FROM run_steps WHERE run_id = ?').all(id) as Array<{ step_id: string; result: string | null }>).map((r) => [r.step_id, r.result === null ? null : JSON.parse(r.result)]),
  );
  return { status: e?.status, error: row.error, steps };
}

const bookingRequests = () => peer.requests.filter((q) => q.method === 'POST' && q.path === '/api/bookings');

test('json: declared fields are converted, the step is their record, the history keeps what was received', async () => {
  const plan = compile(`  slots = get sched "/slots" query { date: date } response {
    total = data.count as number
    items = data.results[*]
    open  = each data.results {
      id    = id as string
      start = start as datetime
      room  = location.room
    }
    note  = data.note as string optional
  }
  booking = post sched "/bookings" body { slot: slots.open[0].id, start: slots.open[0].start, room: slots.open[0].room, total: slots.total, note: slots.note } response {
    id      = id as string
    created = created_at as date
    ok      = confirmed as boolean
  }
  post sched "/bookings" body { slot: "again", previous: booking.id, created: booking.created, ok: booking.ok, status: booking.$status }`);
  const r = await run(plan, { date: '2024-03-15' });
  assert.is(r.status, 'done', r.error ?? '');
  const [first, second] = bookingRequests();
  assert.equal(first.body, { slot: 'S20240315-1', start: '2024-03-15T09:00:00-05:00', room: '3B', total: 2, note: null });
  assert.equal(second.body, { slot: 'again', previous: peer.bookings[0].id, created: '2024-03-15', ok: true, status: 201 });
  const slots = r.steps.slots;
  assert.equal(Object.keys(slots.body), ['total', 'items', 'open', 'note']);
  assert.equal(slots.body.items, slotsFor('2024-03-15'));
  assert.equal(slots.received, { data: { count: 2, results: slotsFor('2024-03-15') } });
});

test('xml: the answer is a navigable value; a single child read with [*] or each is a list of one', async () => {
  const plan = compile(`  all = get legacy "/slots.xml" query { date: date }
  one = get legacy "/slots.xml" query { date: date, variant: "one" } response {
    count = slots.count as number
    ids   = slots.slot[*].id
    list  = each slots.slot {
      id    = id as string
      start = start as datetime
      room  = room
    }
  }
  post sched "/bookings" body { slot: one.ids[0], count: one.count, start: one.list[0].start, second: all.slots.slot[1].id, room: all.slots.slot[1].room, size: all.slots.count }`);
  const r = await run(plan, { date: '2024-03-16' });
  assert.is(r.status, 'done', r.error ?? '');
  assert.equal(bookingRequests()[0].body, { slot: 'S20240316-1', count: 1, start: '2024-03-16T09:00:00-05:00', second: 'S20240316-2', room: '1A', size: '2' });
  const accept = peer.requests.find((q) => q.path === '/api/slots.xml')!.headers.accept;
  assert.match(accept, /application\/xml/);
  // Without a shape the history keeps the value read and the text as received.
  assert.is(r.steps.all.received, slotsXml(slotsFor('2024-03-16')));
  assert.equal(r.steps.all.body.slots.slot[0], { id: 'S20240316-1', start: '2024-03-16T09:00:00-05:00', room: '3B' });
});

test('text: the body is the text', async () => {
  const plan = compile(`  s = get plain "/status" query { date: date }
  post sched "/bookings" body { slot: "S", status: s }`);
  const r = await run(plan, { date: '2024-03-17' });
  assert.is(r.status, 'done', r.error ?? '');
  assert.equal(bookingRequests()[0].body, { slot: 'S', status: '2 slots free on 2024-03-17' });
});

const shaped = `  slots = get sched "/slots" query { date: date } response {
    total = data.count as number
    items = data.results[*]
  }
  post sched "/bookings" body { slot: "S", total: slots.total }`;

test('a field of the wrong kind fails the run naming the field and its line; nothing more is sent', async () => {
  peer.fault({ status: 200, body: { data: { count: 'many', results: [] } }, pathPrefix: '/api/slots' });
  const r = await run(compile(shaped), { date: '2024-03-15' });
  assert.is(r.status, 'dead');
  assert.match(r.error ?? '', /^flows\/schedule\.hdc:13:/);
  assert.match(r.error ?? '', /GET sched \/slots: response field "total" \(data\.count\) is text that does not convert, not a number/);
  assert.not.match(r.error ?? '', /many/); // values are not repeated in errors
  assert.is(bookingRequests().length, 0);
});

test('a missing field fails the run naming the field and its line', async () => {
  peer.fault({ status: 200, body: { data: { count: 3 } }, pathPrefix: '/api/slots' });
  const r = await run(compile(shaped), { date: '2024-03-15' });
  assert.is(r.status, 'dead');
  assert.match(r.error ?? '', /^flows\/schedule\.hdc:14:/);
  assert.match(r.error ?? '', /response field "items" \(data\.results\[\*\]\) is missing/);
});

test('a field inside each names the item', async () => {
  peer.fault({ status: 200, body: { data: { results: [{ id: 'A', start: '2024-03-15T09:00' }, { id: 'B', start: 'soon' }] } }, pathPrefix: '/api/slots' });
  const plan = compile(`  slots = get sched "/slots" query { date: date } response {
    open = each data.results {
      id    = id as string
      start = start as datetime
    }
  }`);
  const r = await run(plan, { date: '2024-03-15' });
  assert.is(r.status, 'dead');
  assert.match(r.error ?? '', /^flows\/schedule\.hdc:15:/);
  assert.match(r.error ?? '', /response field "open\[1\]\.start" \(start\) is text that does not convert, not a datetime/);
});

test('a retried run resumes after a shaped step: the declared record comes from the history, not a second request', async () => {
  peer.fault({ status: 503, times: 1, pathPrefix: '/api/status' });
  const plan = compile(`  slots = get sched "/slots" query { date: date } response {
    total = data.count as number
    first = data.results[0].id as string
  }
  s = get plain "/status" query { date: date }
  post sched "/bookings" body { slot: slots.first, total: slots.total, status: s }`);
  const r = await run(plan, { date: '2024-03-18' }, 2);
  assert.is(r.status, 'done', r.error ?? '');
  assert.is(peer.requests.filter((q) => q.path === '/api/slots').length, 1);
  assert.is(peer.requests.filter((q) => q.path === '/api/status').length, 2);
  assert.equal(bookingRequests()[0].body, { slot: 'S20240318-1', total: 2, status: '2 slots free on 2024-03-18' });
});

test('xml that is not well-formed, or declares a DTD, fails the run without repeating the content', async () => {
  for (const variant of ['malformed', 'doctype']) {
    const r = await run(compile(`  x = get legacy "/slots.xml" query { date: date, variant: "${variant}" }`), { date: '2024-03-15' });
    assert.is(r.status, 'dead', variant);
    assert.match(r.error ?? '', /^flows\/schedule\.hdc:12:/);
    assert.match(r.error ?? '', variant === 'malformed' ? /is not well-formed XML: <\/slot> closes <start> \(line 1\)/ : /document type declarations are not accepted \(line 2\)/);
    assert.not.match(r.error ?? '', /boom/);
  }
});

test.run();
