// A custom (non-FHIR) REST API for tests: a billing service in Koa behind HTTP Basic auth.
//   GET  {base}/charges?encounter=…&from=…&to=…  → { encounter, from, to, currency, total, items }
//   POST {base}/admissions                      → 201 { id, receivedAt, ...body }
//   GET  {base}/admissions, {base}/admissions/:id
// and a scheduling service answering in JSON, XML and text (scheduling-routes.ts).
// Charges are computed deterministically from the query (see `chargesFor`), so a test can
// predict the numbers a workflow will forward.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { applyFault, FaultInjector, readBody, recordRequest, type Fault, type RecordedRequest } from './http-recording.ts';
import { listenLoopback, type TlsKeyPair } from './listen.ts';
import { addSchedulingRoutes, type Booking } from './scheduling-routes.ts';

export type { Fault, RecordedRequest } from './http-recording.ts';

export interface RestApiOptions {
  user: string;
  password: string;
  /** Path prefix of the API (default '/api'). */
  basePath?: string;
  tls?: TlsKeyPair;
}

export interface ChargeItem {
  code: string;
  description: string;
  amount: number;
}

export interface Charges {
  encounter: string | null;
  from: string;
  to: string;
  currency: 'USD';
  total: number;
  items: ChargeItem[];
}

export interface Admission {
  id: string;
  receivedAt: string;
  [key: string]: unknown;
}

export interface RestApi {
  /** e.g. `http://127.0.0.1:40129/api` */
  baseUrl: string;
  origin: string;
  requests: RecordedRequest[];
  /** Stored POST /admissions bodies, oldest first. */
  admissions: Admission[];
  /** Bookings made with POST /bookings, oldest first. */
  bookings: Booking[];
  fault(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const CATALOGUE: Array<[string, string]> = [
  ['99213', 'Office visit, established patient'],
  ['99285', 'Emergency department visit, high severity'],
  ['80053', 'Comprehensive metabolic panel'],
  ['85025', 'Complete blood count'],
  ['71046', 'Chest X-ray, 2 views'],
  ['36415', 'Venipuncture'],
  ['93000', 'Electrocardiogram'],
  ['J1100', 'Dexamethasone injection'],
];

/**
 * The charges the API answers for a query: 1 to 4 items chosen and priced from a SHA-256 of
 * `encounter|from|to`; `total` is the sum rounded to cents.
 */
export function chargesFor(encounter: string | null, from: string, to: string): Charges {
  const h = createHash('sha256').update(`${encounter ?? ''}|${from}|${to}`).digest();
  const n = 1 + (h[0] % 4);
  const items: ChargeItem[] = [];
  for (let i = 0; i < n; i++) {
    const [code, description] = CATALOGUE[h[1 + i] % CATALOGUE.length];
    const cents = 500 + h.readUInt16BE(8 + 2 * i) % 50000;
    items.push({ code, description, amount: cents / 100 });
  }
  const total = Math.round(items.reduce((s, it) => s + it.amount * 100, 0)) / 100;
  return { encounter, from, to, currency: 'USD', total, items };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startRestApi(opts: RestApiOptions): Promise<RestApi> {
  const basePath = (opts.basePath ?? '/api').replace(/\/$/, '');
  const requests: RecordedRequest[] = [];
  const admissions: Admission[] = [];
  const bookings: Booking[] = [];
  const faults = new FaultInjector();
  const app = new Koa();
  const router = new Router({ prefix: basePath });

  // Record, inject faults, authenticate, parse JSON: in that order, so a faulted or
  // unauthenticated request is still recorded.
  app.use(async (ctx, next) => {
    const raw = await readBody(ctx.req);
    const record = recordRequest(ctx.req, new URL(ctx.url, 'http://peer'), raw);
    requests.push(record);
    try {
      const fault = faults.take(ctx.method, ctx.path);
      if (fault) {
        ctx.respond = false;
        if (await applyFault(fault, ctx.res, record, (s) => ({ error: `injected fault ${s}` }))) return;
        ctx.respond = true;
      }
      const m = /^Basic\s+(\S+)$/i.exec(ctx.get('authorization'));
      const [user, ...rest] = m ? Buffer.from(m[1], 'base64').toString('utf8').split(':') : [];
      if (!m || !safeEqual(user ?? '', opts.user) || !safeEqual(rest.join(':'), opts.password)) {
        ctx.status = 401;
        ctx.set('www-authenticate', 'Basic realm="billing", charset="UTF-8"');
        ctx.body = { error: 'unauthorized' };
        return;
      }
      if (raw.length > 0) {
        if (!ctx.is('application/json') && !ctx.is('+json')) {
          ctx.status = 415;
          ctx.body = { error: 'expected application/json' };
          return;
        }
        try {
          (ctx.request as { body?: unknown }).body = JSON.parse(raw);
        } catch {
          ctx.status = 400;
          ctx.body = { error: 'body is not JSON' };
          return;
        }
      }
      await next();
    } finally {
      if (ctx.respond !== false) record.status = ctx.status;
    }
  });

  router.get('/charges', (ctx) => {
    const q = ctx.query;
    const one = (v: unknown) => (Array.isArray(v) ? v[0] : v) as string | undefined;
    const from = one(q.from);
    const to = one(q.to);
    const encounter = one(q.encounter) ?? null;
    if (!from || !to || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) {
      ctx.status = 400;
      ctx.body = { error: 'from and to must be dates (ISO 8601)' };
      return;
    }
    if (Date.parse(from) > Date.parse(to)) {
      ctx.status = 400;
      ctx.body = { error: 'from is after to' };
      return;
    }
    ctx.body = chargesFor(encounter, from, to);
  });

  router.post('/admissions', (ctx) => {
    const body = (ctx.request as { body?: unknown }).body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      ctx.status = 400;
      ctx.body = { error: 'a JSON object is required' };
      return;
    }
    const admission: Admission = { ...(body as object), id: randomUUID(), receivedAt: new Date().toISOString() };
    admissions.push(admission);
    ctx.status = 201;
    ctx.set('location', `${basePath}/admissions/${admission.id}`);
    ctx.body = admission;
  });

  router.get('/admissions', (ctx) => {
    ctx.body = { total: admissions.length, items: admissions };
  });

  router.get('/admissions/:id', (ctx) => {
    const found = admissions.find((a) => a.id === ctx.params.id);
    if (!found) {
      ctx.status = 404;
      ctx.body = { error: 'not found' };
      return;
    }
    ctx.body = found;
  });

  addSchedulingRoutes(router, bookings);
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'not found' };
  });

  const listening = await listenLoopback(opts.tls);
  listening.setHandler(app.callback());
  return {
    baseUrl: listening.origin + basePath,
    origin: listening.origin,
    requests,
    admissions,
    bookings,
    fault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    close: () => listening.close(),
  };
}
