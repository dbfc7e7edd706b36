// The REST peer's scheduling service, answering in JSON, XML and plain text, so tests can read
// each format and check declared response shapes against real answers:
//   GET  {base}/slots?date=YYYY-MM-DD      → { data: { count, results: [{ id, start, location: { room } }] } }
//   GET  {base}/slots.xml?date=…[&variant=] → <slots count="…"><slot id="…"><start/><room/></slot>…</slots>
//        variant: one (a single slot), malformed (not well-formed), doctype (an entity declaration)
//   GET  {base}/status                     → text/plain "2 slots free on DATE"
//   POST {base}/bookings (JSON { slot, … }) → 201 { id, created_at, confirmed, slot }
// Slots are derived from the date alone (`slotsFor`), so a test can predict every answer.
import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';

export interface Slot {
  id: string;
  start: string;
  location: { room: string };
}

export interface Booking {
  id: string;
  created_at: string;
  confirmed: boolean;
  slot: string;
  [key: string]: unknown;
}

/** Two slots on the date: 09:00 in room 3B and 14:30 in room 1A (US Central time). */
export function slotsFor(date: string): Slot[] {
  const compact = date.replaceAll('-', '');
  return [
    { id: `S${compact}-1`, start: `${date}T09:00:00-05:00`, location: { room: '3B' } },
    { id: `S${compact}-2`, start: `${date}T14:30:00-05:00`, location: { room: '1A' } },
  ];
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

export function slotsXml(slots: Slot[]): string {
  const items = slots
    .map((s) => `  <sch:slot id="${escapeXml(s.id)}">\n    <sch:start>${escapeXml(s.start)}</sch:start>\n    <sch:room>${escapeXml(s.location.room)}</sch:room>\n  </sch:slot>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!-- free slots -->\n<sch:slots xmlns:sch="urn:example:scheduling" count="${slots.length}">\n${items}\n</sch:slots>\n`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function addSchedulingRoutes(router: Router, bookings: Booking[]): void {
  const dateOf = (q: unknown): string | undefined => {
    const v = Array.isArray(q) ? q[0] : q;
    return typeof v === 'string' && DATE.test(v) ? v : undefined;
  };

  router.get('/slots', (ctx) => {
    const date = dateOf(ctx.query.date);
    if (!date) {
      ctx.status = 400;
      ctx.body = { error: 'date must be YYYY-MM-DD' };
      return;
    }
    const results = slotsFor(date);
    ctx.body = { data: { count: results.length, results } };
  });

  router.get('/slots.xml', (ctx) => {
    const date = dateOf(ctx.query.date);
    ctx.type = 'application/xml';
    if (!date) {
      ctx.status = 400;
      ctx.body = '<error>date must be YYYY-MM-DD</error>';
      return;
    }
    const variant = ctx.query.variant;
    if (variant === 'malformed') ctx.body = '<slots count="2"><slot id="S1"><start>2024-03-15</slot></slots>';
    else if (variant === 'doctype') ctx.body = '<?xml version="1.0"?>\n<!DOCTYPE slots [<!ENTITY x "boom">]>\n<slots count="1">&x;</slots>';
    else ctx.body = slotsXml(variant === 'one' ? slotsFor(date).slice(0, 1) : slotsFor(date));
  });

  router.get('/status', (ctx) => {
    const date = dateOf(ctx.query.date) ?? '2024-03-15';
    ctx.type = 'text/plain';
    ctx.body = `${slotsFor(date).length} slots free on ${date}`;
  });

  router.post('/bookings', (ctx) => {
    const body = (ctx.request as { body?: unknown }).body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.slot !== 'string') {
      ctx.status = 400;
      ctx.body = { error: 'a JSON object with a slot is required' };
      return;
    }
    const booking: Booking = { ...body, id: `B-${randomUUID()}`, created_at: '2024-03-15T10:30:00Z', confirmed: true, slot: body.slot };
    bookings.push(booking);
    ctx.status = 201;
    ctx.body = booking;
  });
}
