// The SMART routes of the runtime: /smart/NAME/launch, /start, /callback, /login and
// /login/callback for each `smart launch` block. The launch session lives in the shared tables
// (SQLite, or PostgreSQL when several runtimes share a store); the browser
// holds only its opaque id, in an HttpOnly, SameSite=Lax cookie per launch (Lax: the EHR's
// redirect back to the callback is a cross-site top-level GET), Secure and `__Host-` prefixed when
// the connector is reached over HTTPS — directly, or through a TLS-terminating proxy named by an
// https public URL.
import type { Database } from 'better-sqlite3';
import type { Context } from 'koa';
import type { Plan } from '../../plan/plan.types.ts';
import { createValueResolver, type ValueResolver } from '../../runtime/workflows/resolve-value.ts';
import { GotTransport } from '../../runtime/workflows/http/got-transport.ts';
import type { Transport } from '../../runtime/workflows/http/types.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import { openDatabase } from '../../runtime/journal/open-database.ts';
import { sqliteSql, type SharedSql } from '../../runtime/store/shared-sql.ts';
import { LoginRateLimiter, type RateLimitOptions } from '../../runtime/platform/login/rate-limit.ts';
import { LaunchHandler, type SessionCookie } from './launch-handler.ts';
import { LaunchSessions } from './launch-sessions.ts';
import { SessionCipher } from './session-cipher.ts';
import { RequestTiming, type SmartTimingTotals } from './request-timing.ts';
import type { SmartLaunchOutcome } from '../../runtime/platform/module-events.ts';

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
  /** Least time between two JWKS refetches for an unknown kid (default 10 s). */
  jwksCooldownMs?: number;
}

export interface SmartRoutesDeps extends SmartOptions {
  plan: Pick<Plan, 'launches'>;
  db: Database;
  /** The shared tables (sessions, users); on SQLite, the same file as `db`. */
  sql: SharedSql;
  log: Logger;
  /** The connector's public base URL, e.g. https://connector.example.org (no trailing slash). */
  publicUrl: () => string;
  /** How each launch ended (the module announces it on the seam's module events). */
  onOutcome?: (launch: string, outcome: SmartLaunchOutcome) => void;
}

export interface SmartRoutes {
  /** Handles the request when it is a SMART route; false otherwise. */
  handle(ctx: Context): Promise<boolean>;
  readonly handlers: Map<string, LaunchHandler>;
  readonly sessions: LaunchSessions;
  readonly timing: SmartTimingTotals;
  /** Wipes the secrets of expired launches now (also every minute). */
  purge(): Promise<void>;
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;

export function createSmartRoutes(deps: SmartRoutesDeps): SmartRoutes {
  const now = deps.now ?? Date.now;
  const resolve = deps.resolve ?? createValueResolver();
  // Launch sessions are short-lived and re-creatable (a lost one means "start again"), so their
  // connection commits without waiting for the disk (WAL + synchronous=NORMAL: consistent, not
  // fsynced per commit). The journal and the workflow runs keep their own, fully synchronous ones.
  // On PostgreSQL they share the store's pool.
  const sessionDb = deps.sql.dialect === 'sqlite' && !deps.db.memory ? openDatabase(deps.db.name, { migrate: false }) : undefined;
  sessionDb?.pragma('synchronous = NORMAL');
  // Each block's sessions are sealed with its `session_key`, else a random key of this process.
  const ciphers = new Map<string, SessionCipher>();
  const cipherFor = (name: string): SessionCipher => {
    let c = ciphers.get(name);
    if (!c) {
      const launch = deps.plan.launches.find((l) => l.name === name);
      c = new SessionCipher(launch?.sessionKey !== undefined ? resolve(launch.sessionKey) : undefined);
      ciphers.set(name, c);
    }
    return c;
  };
  const sessions = new LaunchSessions(sessionDb ? sqliteSql(sessionDb) : deps.sql, now, cipherFor);
  const ownTransport = deps.transport ? undefined : new GotTransport();
  const transport = deps.transport ?? ownTransport!;
  const rateLimiter = new LoginRateLimiter(deps.rateLimit);
  const timing: SmartTimingTotals = { requests: 0, totalMs: 0, peerMs: 0, completed: 0, failed: 0 };
  const sessionTtlMs = deps.sessionTtlMs ?? 10 * 60_000;

  // Behind a TLS-terminating proxy the request is plain HTTP but the browser speaks HTTPS: the
  // public URL says which, so the cookie keeps Secure and the __Host- prefix.
  const secure = (ctx: Context) => ctx.secure || deps.publicUrl().startsWith('https:');
  const cookieName = (ctx: Context, key: string) => `${secure(ctx) ? '__Host-' : ''}hdc-launch-${key}`;
  const setCookie = (ctx: Context, key: string, value: string, maxAge: number) => {
    if (secure(ctx)) ctx.cookies.secure = true;
    ctx.cookies.set(cookieName(ctx, key), value, { httpOnly: true, secure: secure(ctx), sameSite: 'lax', path: '/', maxAge, overwrite: true });
  };
  const cookie: SessionCookie = {
    read: (ctx, key) => ctx.cookies.get(cookieName(ctx, key)) || undefined,
    write: (ctx, key, id, maxAge) => setCookie(ctx, key, id, maxAge),
    clear: (ctx, key) => setCookie(ctx, key, '', 0),
  };

  const handlers = new Map<string, LaunchHandler>();
  for (const launch of deps.plan.launches) {
    handlers.set(
      launch.name,
      new LaunchHandler(launch, {
        sql: deps.sql, sessions, log: deps.log, resolve, transport, publicUrl: deps.publicUrl, sessionTtlMs,
        ...(deps.discoveryTtlMs !== undefined ? { discoveryTtlMs: deps.discoveryTtlMs } : {}),
        ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
        rateLimiter, cookie, now,
        onOutcome: (outcome) => {
          if (outcome === 'completed') timing.completed++;
          else timing.failed++;
          deps.onOutcome?.(launch.name, outcome);
        },
      }),
    );
  }

  // Abandoned launches lose their secrets when their state expires, requests or not.
  const purge = async () => {
    lastPurge = now();
    // Rows are kept an hour past expiry, so a late browser is told "expired" rather than "unknown".
    await sessions.purge(3_600_000).catch((err: Error) => deps.log.warn({ err: err.message }, 'SMART: could not purge expired launch sessions'));
  };
  let lastPurge = 0;
  const timer = setInterval(() => void purge(), PURGE_EVERY_MS);
  timer.unref();
  return {
    purge,
    handlers,
    sessions,
    timing,
    async handle(ctx) {
      const m = /^\/smart\/([A-Za-z_][A-Za-z0-9_]*)\/(launch|start|callback|login|login\/callback)$/.exec(ctx.path);
      if (!m) return false;
      const handler = handlers.get(m[1]!);
      if (!handler) return false;
      const t = new RequestTiming();
      if (now() - lastPurge > PURGE_EVERY_MS) void purge();
      const handled = await handler.handle(ctx, m[2]!, t);
      timing.requests++;
      timing.totalMs += t.elapsedMs();
      timing.peerMs += t.peerMs;
      return handled;
    },
    async close() {
      clearInterval(timer);
      for (const h of handlers.values()) await h.close();
      ownTransport?.close();
      sessionDb?.close();
    },
  };
}
