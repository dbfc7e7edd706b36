// The Koa application: /health, /ready, and each sender's path. Errors never leak internals or
// message content: an unexpected failure is a 500 with a plain-text body and a log line.
import Koa from 'koa';
import type { SenderDirectory } from '../inbound/sender-directory.ts';
import type { Logger } from './log/logger.ts';
import type { Context } from 'koa';
import { logClientAbort, logRefusal } from '../inbound/refusal.ts';

// Errors that mean the client went away mid-request or mid-response: info, not error.
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

export interface AppState {
  /** Database open and plan loaded; false while starting and once shutdown begins. */
  ready: boolean;
  shuttingDown: boolean;
  inFlight: number;
}

export interface AppDeps {
  directory: SenderDirectory;
  handleHl7: (ctx: Context, candidates: NonNullable<ReturnType<SenderDirectory['forPath']>>) => Promise<void>;
  state: AppState;
  log: Logger;
  /** Extra checks for /ready (e.g. the database answers). */
  readyCheck?: () => boolean;
  /** Other routes (the SMART launches): resolves true when it answered the request. */
  routes?: (ctx: Context) => Promise<boolean>;
}

export function createApp(deps: AppDeps): Koa {
  const { directory, state, log } = deps;
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: NodeJS.ErrnoException, ctx?: Context) => {
    if (CLIENT_GONE.has(err.code ?? '') || ctx?.req.destroyed) logClientAbort(log, ctx?.path, ctx?.req.socket);
    else log.error({ err: err.message, path: ctx?.path ?? null }, 'request failed');
  });
  app.use(async (ctx) => {
    state.inFlight++;
    try {
      if (state.shuttingDown) ctx.set('Connection', 'close');
      if (ctx.path === '/health' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        ctx.body = { status: 'alive' };
        return;
      }
      if (ctx.path === '/ready' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        const ok = state.ready && !state.shuttingDown && (deps.readyCheck?.() ?? true);
        ctx.status = ok ? 200 : 503;
        ctx.body = { status: ok ? 'ready' : state.shuttingDown ? 'shutting down' : 'not ready' };
        return;
      }
      if (deps.routes && state.ready && !state.shuttingDown) {
        try {
          if (await deps.routes(ctx)) return;
        } catch (err) {
          log.error({ path: ctx.path, err: (err as Error).message }, 'unexpected error handling a request');
          ctx.status = 500;
          ctx.set('Content-Type', 'text/plain; charset=utf-8');
          ctx.body = 'internal error\n';
          return;
        }
      }
      const candidates = directory.forPath(ctx.path);
      if (!candidates) {
        logRefusal(log, { status: 404, reason: 'no-sender-at-path', path: ctx.path, socket: ctx.req.socket });
        ctx.status = 404;
        ctx.set('Content-Type', 'text/plain; charset=utf-8');
        ctx.body = 'no sender is configured at this path\n';
        return;
      }
      if (!state.ready || state.shuttingDown) {
        logRefusal(log, { status: 503, reason: 'not-ready', path: ctx.path, socket: ctx.req.socket });
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.set('Content-Type', 'text/plain; charset=utf-8');
        ctx.body = 'the runtime is not accepting messages right now; resend later\n';
        return;
      }
      try {
        await deps.handleHl7(ctx, candidates);
      } catch (err) {
        log.error({ path: ctx.path, err: (err as Error).message }, 'unexpected error handling a request');
        ctx.status = 500;
        ctx.set('Content-Type', 'text/plain; charset=utf-8');
        ctx.body = 'internal error; the message was not acknowledged, resend it\n';
      }
    } finally {
      state.inFlight--;
    }
  });
  return app;
}
