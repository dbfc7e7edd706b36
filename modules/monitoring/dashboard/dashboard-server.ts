// The dashboard's own listener (never the partners' port): sign-in, the overview with live
// updates, message search and drill-down, dead letters with replay, replaying a message through
// its workflows, and the audit log.
// Every response carries a strict CSP (scripts, styles and connections from this origin only;
// nothing inline, no framing) and is not cached. Every POST needs the session's CSRF token and, when
// the browser sends one, this origin in Origin.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Koa, { type Context } from 'koa';
import type { Logger } from '../../../runtime/platform/log/logger.ts';
import { LoginRateLimiter } from '../../../runtime/platform/login/rate-limit.ts';
import { LoginRefusedError, LoginUnavailableError, type Claims, type LoginMethod } from '../../../runtime/platform/login/login-method.ts';
import { srcLine } from '../../../runtime/platform/config/source-location.ts';
import type { ModuleServices } from '../seam.ts';
import { DEFAULT_SESSION_IDLE_MS, type DashboardPlan } from '../monitoring-plan.ts';
import type { Rollups } from '../rollups.ts';
import { closeServer, listenOn } from '../listen.ts';
import type { AuditLog } from './audit-log.ts';
import { DashboardSessions, randomToken, sameToken, type Session } from './sessions.ts';
import { decide, loginMethod } from './login-flow.ts';
import { LiveUpdates } from './live-updates.ts';
import { overviewData, rangeOf, RANGES } from './overview-data.ts';
import type { BulkExports } from '../bulk-exports.ts';
import { SenderRhythm } from '../sender-rhythm.ts';
import { runReportOf } from '../../../runtime/workflows/run-report.ts';
import { deadLetters, messageDetail, runOf, searchMessages, FIELD_NAME, MESSAGE_STATUSES, type MessageFilter } from './message-search.ts';
import { replayRun, rerunRun, wakeEngines } from './run-actions.ts';
import type { SharedSql } from '../../../runtime/store/shared-sql.ts';
import { replayPlan } from './message-replay.ts';
import { auditPage, deadLettersPage, errorPage, loginPage, messagePage, messagesPage, overviewPage, overviewTables } from './pages.ts';

export interface Dashboard {
  url: string;
  sessions: DashboardSessions;
  close(): Promise<void>;
}

export interface DashboardDeps {
  services: ModuleServices;
  rollups: Rollups;
  audit: AuditLog;
  /** The module's tables (sessions): shared by the cluster with a PostgreSQL store. */
  sql: SharedSql;
  log: Logger;
  /** Bulk FHIR exports as announced, and the plan's `bulk` blocks (the Exports panel shows only with them). */
  exports?: BulkExports;
  bulkBlocks?: readonly string[];
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const SESSION_COOKIE = 'hdc-dashboard';
const LOGIN_COOKIE = 'hdc-dashboard-login';
const MAX_FORM_BYTES = 16 * 1024;

function assets(): Map<string, { type: string; body: Buffer }> {
  const require = createRequire(import.meta.url);
  // The assets live beside the sources; the compiled build (dist/) has the scripts but not the
  // stylesheet, so a build reads them from the source tree it was built from.
  const local = (name: string) => {
    const here = new URL(`./assets/${name}`, import.meta.url);
    return existsSync(here) ? here : new URL(here.href.replace(/\/dist\/modules\//, '/modules/'));
  };
  return new Map([
    ['/assets/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) }],
    ['/assets/uPlot.min.css', { type: 'text/css; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
    ['/assets/dashboard.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(local('dashboard.js')) }],
    ['/assets/dashboard.css', { type: 'text/css; charset=utf-8', body: readFileSync(local('dashboard.css')) }],
  ]);
}

async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(ctx.get('content-type'))) return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** `id` and `src` of every step of every workflow: the .hdc line shown beside a step. */
function stepLinesOf(plan: ModuleServices['plan']): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const walk = (v: unknown, into: Map<string, string>): void => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, into));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.src === 'string' && typeof o.kind === 'string') into.set(o.id, srcLine(o.src));
    for (const x of Object.values(o)) if (x && typeof x === 'object') walk(x, into);
  };
  for (const w of plan.workflows) {
    const m = new Map<string, string>();
    walk(w.steps, m);
    out.set(w.name, m);
  }
  return out;
}

function localTime(v: string | null): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(/Z|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(t) ? undefined : t;
}

export async function startDashboard(plan: DashboardPlan, deps: DashboardDeps): Promise<Dashboard> {
  const { services, rollups, audit, sql, log } = deps;
  const sessions = new DashboardSessions(sql, plan.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
  const method: LoginMethod = await loginMethod(plan, services.resolve, services.sql);
  const limiter = new LoginRateLimiter();
  const files = assets();
  const live = new LiveUpdates();
  rollups.onFlush = () => live.changed();
  if (deps.exports) deps.exports.onFlush = () => live.changed();
  const senders = services.plan.senders.map((s) => s.name);
  const overview = { rollups, sql: services.sql, declaredSenders: senders, rhythm: new SenderRhythm(rollups), launches: services.plan.launches.length > 0,
    ...(deps.exports && deps.bulkBlocks?.length ? { exports: deps.exports, bulkBlocks: deps.bulkBlocks } : {}) };
  const stepLines = stepLinesOf(services.plan);
  /** OIDC sign-ins under way: browser nonce cookie → the checks for the callback. */
  const pendingOidc = new Map<string, { state: string; verifier: string; nonce: string; at: number }>();

  // The dashboard listens on loopback only, so whatever forwards to it is local: an HTTPS reverse
  // proxy's X-Forwarded-Proto/Host decide the origin (CSRF checks, the OIDC redirect) and make
  // the cookies Secure.
  const app = new Koa({ proxy: true });
  app.silent = true;
  app.on('error', (err: Error) => log.error({ err: err.message }, 'dashboard: request failed'));

  const cookieOptions = (ctx: Context) => ({ httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path: '/', overwrite: true });
  const originOf = (ctx: Context) => `${ctx.protocol}://${ctx.host}`;
  const html = (ctx: Context, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  };
  const audited = (s: Session, action: Parameters<AuditLog['record']>[0]['action'], target: string, outcome: string) =>
    audit.record({ username: s.username, role: s.role, action, target, outcome });

  const startSession = async (ctx: Context, claims: Claims) => {
    const d = decide(plan, claims, services.resolve);
    if (!d.ok) {
      await audit.record({ username: d.username, role: '-', action: 'sign-in-refused', outcome: d.why === 'no-role' ? 'no dashboard role for the user\'s groups' : 'the login\'s require did not hold' });
      return html(ctx, 403, errorPage(undefined, 403, 'You are signed in, but no dashboard role is granted to your groups.'));
    }
    const { token, session } = await sessions.create(d.username, d.role);
    await audited(session, 'sign-in', '', 'ok');
    ctx.cookies.set(SESSION_COOKIE, token, cookieOptions(ctx));
    ctx.redirect('/');
  };

  const loginForm = (ctx: Context, status: number, message?: string) => {
    // One token per browser while it signs in: a second tab (or the favicon's redirect) does not
    // invalidate the first form.
    const existing = ctx.cookies.get(LOGIN_COOKIE);
    const csrf = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken();
    ctx.cookies.set(LOGIN_COOKIE, csrf, { ...cookieOptions(ctx), maxAge: 30 * 60_000 });
    html(ctx, status, loginPage(csrf, message, method.kind === 'redirect'));
  };

  async function handleLogin(ctx: Context): Promise<void> {
    if (ctx.path === '/login' && ctx.method === 'GET') return loginForm(ctx, 200, ctx.query.expired ? 'Your session expired; sign in again.' : undefined);
    if (ctx.path === '/login' && ctx.method === 'POST') {
      const form = await readForm(ctx);
      if (!sameToken(form.get('csrf') ?? undefined, ctx.cookies.get(LOGIN_COOKIE))) return loginForm(ctx, 403, 'The sign-in form expired; try again.');
      if (method.kind === 'redirect') {
        const start = await method.begin(`${originOf(ctx)}/login/callback`);
        const nonce = randomToken();
        for (const [k, p] of pendingOidc) if (Date.now() - p.at > 10 * 60_000) pendingOidc.delete(k);
        pendingOidc.set(nonce, { state: start.state, verifier: start.verifier, nonce: start.nonce, at: Date.now() });
        ctx.cookies.set(`${LOGIN_COOKIE}-oidc`, nonce, { ...cookieOptions(ctx), maxAge: 10 * 60_000 });
        return ctx.redirect(start.url);
      }
      const username = (form.get('username') ?? '').slice(0, 200);
      const address = ctx.req.socket.remoteAddress ?? '';
      if (!limiter.allowed(address, username)) return loginForm(ctx, 429, 'Too many failed sign-ins; wait a few minutes.');
      const claims = await method.verify(username, form.get('password') ?? '');
      if (!claims) {
        limiter.failed(address, username);
        await audit.record({ username, role: '-', action: 'sign-in-refused', outcome: 'wrong user name or password' });
        return loginForm(ctx, 401, 'Wrong user name or password.');
      }
      limiter.succeeded(address, username);
      return startSession(ctx, claims);
    }
    if (ctx.path === '/login/callback' && ctx.method === 'GET' && method.kind === 'redirect') {
      const key = ctx.cookies.get(`${LOGIN_COOKIE}-oidc`);
      const pending = key ? pendingOidc.get(key) : undefined;
      if (!key || !pending) return loginForm(ctx, 400, 'The sign-in took too long or was started elsewhere; try again.');
      pendingOidc.delete(key);
      const claims = await method.finish(new URL(ctx.originalUrl, originOf(ctx)), pending);
      return startSession(ctx, claims);
    }
    html(ctx, 404, errorPage(undefined, 404, 'No such page.'));
  }

  /** POST checks: the session's CSRF token, and this origin when the browser names one. */
  const csrfRefusal = (ctx: Context, s: Session, form: URLSearchParams): string | null => {
    const from = ctx.get('origin');
    if (from && from !== originOf(ctx)) return 'the request came from another site';
    if (!sameToken(form.get('csrf') ?? undefined, s.csrf)) return 'missing or wrong CSRF token';
    return null;
  };

  async function handleSignedIn(ctx: Context, s: Session): Promise<void> {
    const operator = s.role === 'operator';
    const refuse = async (what: string) => {
      await audited(s, 'refused', `${ctx.method} ${ctx.path}`, what);
      html(ctx, 403, errorPage(s, 403, what));
    };
    if (ctx.method === 'GET' && ctx.path === '/') {
      return html(ctx, 200, overviewPage(s, await overviewData(overview, rangeOf(ctx.query.range))));
    }
    if (ctx.method === 'GET' && ctx.path === '/overview.json') {
      const data = await overviewData(overview, rangeOf(ctx.query.range));
      ctx.body = { data, html: overviewTables(data) };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/export.csv') {
      // The numbers behind the charts (counts and latency sums, no content): for spreadsheets and reports.
      const range = rangeOf(ctx.query.range);
      const now = Date.now();
      const to = now - (now % 60_000) + 60_000;
      const rows = await rollups.rows(to - RANGES[range].ms, to);
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="hdc-traffic-${range}.csv"`);
      const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : /^[=+\-@]/.test(v) ? `'${v}` : v);
      ctx.body = ['start,sender,message_type,ack_code,messages,mean_latency_ms',
        ...rows.map((r) => [new Date(r.minute).toISOString(), cell(r.sender), cell(r.messageType), cell(r.ackCode), String(r.count), (r.latencySumMs / r.count).toFixed(1)].join(','))].join('\r\n') + '\r\n';
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/events') {
      ctx.respond = false;
      live.add(ctx.res);
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/messages') {
      const str = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string).trim() : '');
      const status = str('status');
      const f: MessageFilter = {
        ...(str('sender') ? { sender: str('sender') } : {}),
        ...(str('type') ? { type: str('type') } : {}),
        ...(str('control_id') ? { controlId: str('control_id') } : {}),
        ...((MESSAGE_STATUSES as readonly string[]).includes(status) ? { status } : {}),
      };
      const from = localTime(str('from'));
      const to = localTime(str('to'));
      if (from !== undefined) f.from = from;
      if (to !== undefined) f.to = to;
      const pageNo = Math.max(0, Math.min(10_000, Number.parseInt(str('page') || '0', 10) || 0));
      const fieldName = str('field');
      const fieldValue = str('value');
      if (fieldName && fieldValue) {
        if (!operator) return refuse('Only operators can search by a mapped field\'s value.');
        if (!FIELD_NAME.test(fieldName)) return html(ctx, 400, errorPage(s, 400, 'A field name is letters, digits and underscores.'));
        f.field = { name: fieldName, value: fieldValue };
        // The value searched for may be PHI (a medical record number): the search is audited, the value is not written down.
        await audited(s, 'search-field', `field ${fieldName}`, 'searched');
      }
      const raw = { type: str('type'), control_id: str('control_id'), from: str('from'), to: str('to'), field: fieldName, value: fieldValue };
      return html(ctx, 200, messagesPage(s, f, senders, await searchMessages(services.sql, f, pageNo), pageNo, raw));
    }
    const messageMatch = /^\/messages\/(\d{1,15})$/.exec(ctx.path);
    if (ctx.method === 'GET' && messageMatch) {
      const id = Number(messageMatch[1]);
      const m = await messageDetail(services.sql, id);
      if (!m) return html(ctx, 404, errorPage(s, 404, `No message ${id}.`));
      const runs = (await Promise.all(m.runIds.map((r) => runReportOf(services.sql, r.id, { phi: operator })))).filter((r) => r !== undefined);
      const lines = new Map<string, string>();
      for (const r of runs) for (const [k, v] of stepLines.get(r.workflow) ?? []) lines.set(k, v);
      if (operator && m.raw !== null) await audited(s, 'view-message', `message ${id}`, 'content shown');
      return html(ctx, 200, messagePage(s, m, runs, lines));
    }
    if (ctx.method === 'GET' && ctx.path === '/dead-letters') {
      return html(ctx, 200, deadLettersPage(s, await deadLetters(services.sql)));
    }
    const replayMatch = /^\/runs\/(\d{1,15})\/replay$/.exec(ctx.path);
    if (replayMatch) {
      if (ctx.method !== 'POST') return html(ctx, 405, errorPage(s, 405, 'Replays are asked for with the button on the message page.'));
      const form = await readForm(ctx);
      const bad = csrfRefusal(ctx, s, form);
      if (bad) return refuse(`Refused: ${bad}.`);
      if (!operator) return refuse('Only operators can replay runs.');
      if (form.get('confirm') !== 'yes') return html(ctx, 400, errorPage(s, 400, 'Confirm the replay with the checkbox.'));
      const id = Number(replayMatch[1]);
      const run = await runOf(services.sql, id);
      if (!run) return html(ctx, 404, errorPage(s, 404, `No run ${id}.`));
      const r = await replayRun(services, id, `dashboard:${s.username}`);
      if ('noEngine' in r) return html(ctx, 503, errorPage(s, 503, 'The workflow engine is not running in this process.'));
      if (!r.replayed) {
        const status = 'status' in r ? r.status : 'gone';
        await audited(s, 'replay-run', `run ${id}`, `not replayed: the run is ${status}`);
        return html(ctx, 409, errorPage(s, 409, `Run ${id} is ${status}; only dead or failed runs can be replayed.`));
      }
      await audited(s, 'replay-run', `run ${id}`, 'queued again');
      await wakeEngines(services);
      live.changed();
      ctx.status = 303;
      ctx.redirect(`/messages/${run.messageId}#run-${id}`);
      return;
    }
    const messageReplayMatch = /^\/messages\/(\d{1,15})\/replay$/.exec(ctx.path);
    if (messageReplayMatch) {
      if (ctx.method !== 'POST') return html(ctx, 405, errorPage(s, 405, 'Replays are asked for with the button on the message page.'));
      const form = await readForm(ctx);
      const bad = csrfRefusal(ctx, s, form);
      if (bad) return refuse(`Refused: ${bad}.`);
      if (!operator) return refuse('Only operators can replay messages.');
      if (form.get('confirm') !== 'yes') return html(ctx, 400, errorPage(s, 400, 'Confirm the replay with the checkbox.'));
      const id = Number(messageReplayMatch[1]);
      const m = await messageDetail(services.sql, id);
      if (!m) return html(ctx, 404, errorPage(s, 404, `No message ${id}.`));
      if (services.sql.dialect === 'sqlite' && !services.engine()) return html(ctx, 503, errorPage(s, 503, 'The workflow engine is not running in this process.'));
      const plan = replayPlan(m.runIds);
      if ('refused' in plan) {
        await audited(s, 'replay-message', `message ${id}`, `not replayed: ${plan.refused}`);
        return html(ctx, 409, errorPage(s, 409, `Message ${id} cannot be replayed: ${plan.refused}.`));
      }
      const started: number[] = [];
      const refusals: string[] = [];
      for (const runId of plan.runs) {
        const r = await rerunRun(services, runId, `dashboard:${s.username}`);
        if ('runId' in r) started.push(r.runId);
        else if ('refused' in r) refusals.push(r.refused);
        else return html(ctx, 503, errorPage(s, 503, 'The workflow engine is not running in this process.'));
      }
      if (!started.length) {
        await audited(s, 'replay-message', `message ${id}`, `not replayed: ${refusals.join('; ')}`);
        return html(ctx, 409, errorPage(s, 409, `Message ${id} cannot be replayed: ${refusals.join('; ')}.`));
      }
      await audited(s, 'replay-message', `message ${id}`, `new run${started.length > 1 ? 's' : ''} ${started.join(', ')} queued${refusals.length ? `; not replayed: ${refusals.join('; ')}` : ''}`);
      // 'enqueued' wakes the engine and tells the module's tracing which message the runs belong to.
      services.events.emit('enqueued', { runIds: started, messageId: id, sender: m.sender });
      await wakeEngines(services);
      live.changed();
      ctx.status = 303;
      ctx.redirect(`/messages/${id}#run-${started[0]}`);
      return;
    }
    if (ctx.method === 'GET' && (ctx.path === '/audit' || ctx.path === '/audit.csv')) {
      if (!operator) return refuse('Only operators can read the audit log.');
      if (ctx.path === '/audit.csv') {
        ctx.type = 'text/csv; charset=utf-8';
        ctx.set('Content-Disposition', 'attachment; filename="hdc-dashboard-audit.csv"');
        ctx.body = await audit.csv();
        return;
      }
      return html(ctx, 200, auditPage(s, await audit.list({ limit: 500 })));
    }
    if (ctx.method === 'POST' && ctx.path === '/logout') {
      const form = await readForm(ctx);
      const bad = csrfRefusal(ctx, s, form);
      if (bad) return refuse(`Refused: ${bad}.`);
      await sessions.end(ctx.cookies.get(SESSION_COOKIE));
      await audited(s, 'sign-out', '', 'ok');
      ctx.cookies.set(SESSION_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 });
      ctx.status = 303;
      ctx.redirect('/login');
      return;
    }
    html(ctx, 404, errorPage(s, 404, 'No such page.'));
  }

  app.use(async (ctx) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    try {
      const asset = ctx.method === 'GET' ? files.get(ctx.path) : undefined;
      if (asset) {
        ctx.type = asset.type;
        ctx.set('Cache-Control', 'private, max-age=3600');
        ctx.body = asset.body;
        return;
      }
      if (ctx.path === '/login' || ctx.path === '/login/callback') return await handleLogin(ctx);
      if (ctx.path === '/favicon.ico') {
        ctx.status = 404;
        return;
      }
      const found = await sessions.lookup(ctx.cookies.get(SESSION_COOKIE));
      if (!found.ok) {
        if (ctx.method === 'GET' && !/\.(json|csv)$/.test(ctx.path) && ctx.path !== '/events') {
          ctx.redirect(found.reason === 'expired' ? '/login?expired=1' : '/login');
          return;
        }
        ctx.status = 401;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = found.reason === 'expired' ? 'session expired: sign in again\n' : 'sign in first\n';
        return;
      }
      await handleSignedIn(ctx, found.session);
    } catch (err) {
      const e = err as Error & { status?: number };
      if (e.status && e.status < 500) return html(ctx, e.status, errorPage(undefined, e.status, e.message));
      const unavailable = err instanceof LoginUnavailableError;
      if (err instanceof LoginRefusedError) return loginForm(ctx, 401, 'The identity provider refused the sign-in.');
      log.error({ err: e.message, path: ctx.path }, unavailable ? 'dashboard: the login provider is unavailable' : 'dashboard: request failed');
      html(ctx, unavailable ? 503 : 500, errorPage(undefined, 500, unavailable ? 'Sign-in is unavailable right now.' : 'Something went wrong; the log has the details.'));
    }
  });

  const server: Server = createServer(app.callback());
  server.keepAliveTimeout = 5000;
  const url = await listenOn(server, plan.listen, plan.src, 'dashboard');
  const sweep = setInterval(() => void sessions.purgeIdle().catch((err) => log.warn({ err: (err as Error).message }, 'dashboard: could not sweep idle sessions')), 10 * 60_000);
  sweep.unref();
  log.info({ url }, 'dashboard: listening');
  return {
    url,
    sessions,
    async close() {
      clearInterval(sweep);
      rollups.onFlush = undefined;
      live.close();
      await closeServer(server);
      if (method.kind === 'form') await method.close?.();
    },
  };
}
