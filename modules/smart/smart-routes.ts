// The SMART routes of the runtime: /smart/NAME/launch, /start, /callback, /login and
// /login/callback for each `smart launch` block. The launch session lives in SQLite; the browser
// holds only its opaque id, in an HttpOnly, SameSite=Lax cookie (Lax: the EHR's redirect back to
// the callback is a cross-site top-level GET), Secure and `__Host-` prefixed over HTTPS.
import type { Database } from 'better-sqlite3';
import type { Context } from 'koa';
import type { Plan } from '../../plan/plan.types.ts';
import { createValueResolver, type ValueResolver } from '../../runtime/workflows/resolve-value.ts';
import { GotTransport } from '../../runtime/workflows/http/got-transport.ts';
import type { Transport } from '../../runtime/workflows/http/types.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import { openDatabase } from '../../runtime/journal/open-database.ts';
import { LoginRateLimiter, type RateLimitOptions } from '../../runtime/platform/login/rate-limit.ts';
import { LaunchHandler, type SessionCookie } from './launch-handler.ts';
import { LaunchSessions } from './launch-sessions.ts';
import { RequestTiming, type SmartTimingTotals } from './request-timing.ts';

export interface SmartOptions {
  /** How long a launch may take from launch to redirect (default 10 minutes). */
  sessionTtlMs?: number;
  /** How long a discovered smart-configuration is reused (default 5 minutes). */
  discoveryTtlMs?: number;
  rateLimit?: RateLimitOptions;
  /** Transport for the launch's FHIR requests (default got with keep-alive). */
  transport?: Transport;
  resolve?: ValueResolver;
  now?: () => number;
}

export interface SmartRoutesDeps extends SmartOptions {
  plan: Pick<Plan, 'launches'>;
  db: Database;
  log: Logger;
  /** The connector's public base URL, e.g. https://connector.example.org (no trailing slash). */
  publicUrl: () => string;
}

export interface SmartRoutes {
  /** Handles the request when it is a SMART route; false otherwise. */
  handle(ctx: Context): Promise<boolean>;
  readonly handlers: Map<string, LaunchHandler>;
  readonly sessions: LaunchSessions;
  readonly timing: SmartTimingTotals;
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;

export function createSmartRoutes(deps: SmartRoutesDeps): SmartRoutes {
  const now = deps.now ?? Date.now;
  // Launch sessions are short-lived and re-creatable (a lost one means "start again"), so their
  // connection commits without waiting for the disk (WAL + synchronous=NORMAL: consistent, not
  // fsynced per commit). The journal and the workflow runs keep their own, fully synchronous ones.
  const sessionDb = deps.db.memory ? deps.db : openDatabase(deps.db.name, { migrate: false });
  if (sessionDb !== deps.db) sessionDb.pragma('synchronous = NORMAL');
  const sessions = new LaunchSessions(sessionDb, now);
  const ownTransport = deps.transport ? undefined : new GotTransport();
  const transport = deps.transport ?? ownTransport!;
  const resolve = deps.resolve ?? createValueResolver();
  const rateLimiter = new LoginRateLimiter(deps.rateLimit);
  const timing: SmartTimingTotals = { requests: 0, totalMs: 0, peerMs: 0, completed: 0, failed: 0 };
  const sessionTtlMs = deps.sessionTtlMs ?? 10 * 60_000;

  const cookie: SessionCookie = {
    read: (ctx) => ctx.cookies.get(ctx.secure ? '__Host-hdc-launch' : 'hdc-launch') || undefined,
    write: (ctx, id, maxAge) =>
      ctx.cookies.set(ctx.secure ? '__Host-hdc-launch' : 'hdc-launch', id, {
        httpOnly: true, secure: ctx.secure, sameSite: 'lax', path: '/', maxAge, overwrite: true,
      }),
    clear: (ctx) =>
      ctx.cookies.set(ctx.secure ? '__Host-hdc-launch' : 'hdc-launch', '', {
        httpOnly: true, secure: ctx.secure, sameSite: 'lax', path: '/', maxAge: 0, overwrite: true,
      }),
  };

  const handlers = new Map<string, LaunchHandler>();
  for (const launch of deps.plan.launches) {
    handlers.set(
      launch.name,
      new LaunchHandler(launch, {
        db: deps.db, sessions, log: deps.log, resolve, transport, publicUrl: deps.publicUrl, sessionTtlMs,
        ...(deps.discoveryTtlMs !== undefined ? { discoveryTtlMs: deps.discoveryTtlMs } : {}),
        rateLimiter, cookie, now,
        onOutcome: (ok) => void (ok ? timing.completed++ : timing.failed++),
      }),
    );
  }

  let lastPurge = 0;
  return {
    handlers,
    sessions,
    timing,
    async handle(ctx) {
      const m = /^\/smart\/([A-Za-z_][A-Za-z0-9_]*)\/(launch|start|callback|login|login\/callback)$/.exec(ctx.path);
      if (!m) return false;
      const handler = handlers.get(m[1]!);
      if (!handler) return false;
      const t = new RequestTiming();
      if (now() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = now();
        // Kept an hour past expiry, so a late browser is told "expired" rather than "unknown".
        sessions.purge(3_600_000);
      }
      const handled = await handler.handle(ctx, m[2]!, t);
      timing.requests++;
      timing.totalMs += t.elapsedMs();
      timing.peerMs += t.peerMs;
      return handled;
    },
    async close() {
      for (const h of handlers.values()) await h.close();
      ownTransport?.close();
      if (sessionDb !== deps.db) sessionDb.close();
    },
  };
}
