// The REST peer's scheduling service: JSON, XML and text answers, predictable from the date.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startRestApi, type RestApi } from '../peers/rest-api.ts';
import { slotsFor, slotsXml } from '../peers/scheduling-routes.ts';
import { parseXml } from '../../runtime/workflows/http/xml.ts';

let api: RestApi;
const basic = 'Basic ' + Buffer.from('u:p').toString('base64');
const call = (path: string, init: RequestInit = {}) => fetch(`${api.baseUrl}${path}`, { ...init, headers: { authorization: basic, ...(init.headers as object) } });

test.before(async () => {
  api = await startRestApi({ user: 'u', password: 'p' });
});
test.after(() => api.close());

test('GET /slots answers JSON; 400 without a date; Basic auth required', async () => {
  const res = await call('/slots?date=2024-03-15');
  assert.match(res.headers.get('content-type')!, /application\/json/);
  assert.equal(await res.json(), { data: { count: 2, results: slotsFor('2024-03-15') } });
  assert.is((await call('/slots')).status, 400);
  assert.is((await fetch(`${api.baseUrl}/slots?date=2024-03-15`)).status, 401);
});

test('GET /slots.xml answers XML in its variants', async () => {
  const res = await call('/slots.xml?date=2024-03-15');
  assert.match(res.headers.get('content-type')!, /application\/xml/);
  const text = await res.text();
  assert.is(text, slotsXml(slotsFor('2024-03-15')));
  const v = parseXml(text) as { slots: { count: string; slot: unknown[] } };
  assert.is(v.slots.count, '2');
  assert.is(v.slots.slot.length, 2);
  const one = parseXml(await (await call('/slots.xml?date=2024-03-15&variant=one')).text()) as { slots: { slot: unknown } };
  assert.equal(one.slots.slot, { id: 'S20240315-1', start: '2024-03-15T09:00:00-05:00', room: '3B' });
  assert.throws(() => parseXml(''));
  assert.match(await (await call('/slots.xml?date=2024-03-15&variant=doctype')).text(), /<!DOCTYPE/);
});

test('GET /status answers text; POST /bookings stores and answers 201', async () => {
  const s = await call('/status?date=2024-03-15');
  assert.match(s.headers.get('content-type')!, /text\/plain/);
  assert.is(await s.text(), '2 slots free on 2024-03-15');
  const b = await call('/bookings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slot: 'S1', who: 'x' }) });
  assert.is(b.status, 201);
  const booking = await b.json();
  assert.equal(booking, { slot: 'S1', who: 'x', id: booking.id, created_at: '2024-03-15T10:30:00Z', confirmed: true });
  assert.equal(api.bookings, [booking]);
  assert.is((await call('/bookings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400);
});

test.run();
