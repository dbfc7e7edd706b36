// One `smart launch` block at run time: EHR and standalone launch, the user login (first, so the
// time a user spends at the IdP never counts against the EHR's access token), the EHR
// authorization, the callback (state check, code exchange with PKCE, granted scope, launch
// context, id_token and fhirUser), then — in the same request — the fetches and the redirect.
// Every failure ends on the plain error page with a correlation id; the log gets the detail and
// the .hdc line, never tokens or patient data. Each launch has its own cookie, named by the
// launch key its states start with, so several launches can run in one browser.
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { Launch } from '../../plan/plan.types.ts';
import { srcLine } from '../../runtime/platform/config/source-location.ts';
import type { ValueResolver } from '../../runtime/workflows/resolve-value.ts';
import type { Transport } from '../../runtime/workflows/http/types.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import { authorizeUser, createLoginMethod } from '../../runtime/platform/login/create-login.ts';
import { loginFormPage } from '../../runtime/platform/login/login-form.ts';
import { LoginRefusedError, LoginUnavailableError, type Claims, type LoginMethod } from '../../runtime/platform/login/login-method.ts';
import type { LoginRateLimiter } from '../../runtime/platform/login/rate-limit.ts';
import { BodyTooLargeError, readBody } from '../../runtime/inbound/read-body.ts';
import type { SharedSql } from '../../runtime/store/shared-sql.ts';
import { completeLaunch } from './complete-launch.ts';
import { correlationId, errorPage } from './error-page.ts';
import { LaunchError } from './launch-error.ts';
import { LAUNCH_KEY_LENGTH, LaunchSessions, launchKeyOf, randomLaunchKey, randomToken, type LaunchSession } from './launch-sessions.ts';
import { describeText, tokenError } from './token-errors.ts';
import { SCOPE_REFUSED_TEXT, UNKNOWN_LAUNCH_TEXT } from './launch-error.ts';
import { LaunchTokenAuth, type TokenSet } from './launch-token-auth.ts';
import { launchScope, missingScopes, readLaunchContext } from './launch-scope.ts';
import { SmartServers } from './smart-servers.ts';
import type { RequestTiming } from './request-timing.ts';
import { timingSafeEqual } from 'node:crypto';
import type { SmartLaunchOutcome } from '../../runtime/platform/module-events.ts';

export interface LaunchHandlerDeps {
  /** The shared tables (the login form's users). */
  sql: SharedSql;
  sessions: LaunchSessions;
  log: Logger;
  resolve: ValueResolver;
  transport: Transport;
  /** The public base URL of the connector (no trailing slash). */
  publicUrl: () => string;
  sessionTtlMs: number;
  discoveryTtlMs?: number;
  rateLimiter: LoginRateLimiter;
  cookie: SessionCookie;
  now: () => number;
  /** How each launch ended: counted, and announced to other modules. */
  onOutcome?: (outcome: SmartLaunchOutcome) => void;
  discover?: (fhirBase: string) => Promise<Record<string, unknown>>;
  jwksCooldownMs?: number;
}

/** The browser's launch sessions: one cookie per launch, named by its launch key. */
export interface SessionCookie {
  read(ctx: Context, key: string): string | undefined;
  write(ctx: Context, key: string, id: string, maxAgeMs: number): void;
  clear(ctx: Context, key: string): void;
}

const FORM_LIMIT = 8 * 1024;

export class LaunchHandler {
  readonly servers: SmartServers;
  private login?: Promise<LoginMethod>;

  constructor(
    readonly launch: Launch,
    private readonly deps: LaunchHandlerDeps,
  ) {
    this.servers = new SmartServers(launch, {
      resolve: deps.resolve,
      ...(deps.discoveryTtlMs !== undefined ? { ttlMs: deps.discoveryTtlMs } : {}),
      now: deps.now,
      ...(deps.discover ? { discover: deps.discover } : {}),
      ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
    });
  }

  private get base(): string {
    return `${this.deps.publicUrl()}/smart/${encodeURIComponent(this.launch.name)}`;
  }

  redirectUri(): string {
    return this.launch.redirectUri !== undefined ? this.deps.resolve(this.launch.redirectUri) : `${this.base}/callback`;
  }

  /** Routes below /smart/NAME/; false when the action is not one of them. */
  async handle(ctx: Context, action: string, t: RequestTiming): Promise<boolean> {
    const get = ctx.method === 'GET' || ctx.method === 'HEAD';
    try {
      if (action === 'launch' && get) await this.ehrLaunch(ctx, t);
      else if (action === 'start' && get) await this.standaloneLaunch(ctx, t);
      else if (action === 'callback' && get) await this.callback(ctx, t);
      else if (action === 'login' && get) await this.loginForm(ctx);
      else if (action === 'login' && ctx.method === 'POST') await this.loginSubmit(ctx, t);
      else if (action === 'login/callback' && get) await this.loginCallback(ctx, t);
      else return false;
    } catch (err) {
      this.fail(ctx, err);
    }
    return true;
  }

  // ---- launch ----------------------------------------------------------------------------------
  private async ehrLaunch(ctx: Context, t: RequestTiming): Promise<void> {
    const iss = single(ctx.query.iss);
    const launchParam = single(ctx.query.launch);
    if (!iss || !launchParam) throw new LaunchError('EHR launch without iss or launch', { status: 400, src: this.launch.src });
    const allowed = this.launch.issuers.some((i) => sameBase(i, iss));
    if (!allowed) {
      // The iss is a URL the EHR (or anyone) chose: logged as an origin only.
      throw new LaunchError(`iss is not on the allow-list (${safeOrigin(iss)})`, {
        status: 400,
        src: this.launch.src,
        publicText: 'This EHR is not allowed to launch this app.',
      });
    }
    await this.start(ctx, t, 'ehr', iss, launchParam);
  }

  private async standaloneLaunch(ctx: Context, t: RequestTiming): Promise<void> {
    if (this.launch.standalone === undefined) throw new LaunchError('no standalone FHIR base is configured', { status: 404, src: this.launch.src });
    await this.start(ctx, t, 'standalone', this.deps.resolve(this.launch.standalone));
  }

  /** A new launch session with its own cookie; then the login, or the EHR's authorization. */
  private async start(ctx: Context, t: RequestTiming, kind: 'ehr' | 'standalone', iss: string, launchParam?: string): Promise<void> {
    // Discovery first: a broken EHR fails before the user is asked to sign in.
    await t.peer(this.servers.get(iss));
    const scope = launchScope(this.launch.scope, kind);
    const key = randomLaunchKey();
    const phase = this.launch.login ? 'login' : 'authorize';
    const id = await this.deps.sessions.create({ launch: this.launch.name, kind, iss, phase, ...(launchParam ? { launchParam } : {}), scope, ttlMs: this.deps.sessionTtlMs });
    this.deps.cookie.write(ctx, key, id, this.deps.sessionTtlMs);
    this.deps.log.info({ launch: this.launch.name, kind, fhir: safeOrigin(iss) }, 'smart launch started');
    const session = (await this.deps.sessions.get(id))!;
    if (phase === 'login') await this.beginLogin(ctx, t, session, key);
    else await this.authorize(ctx, t, session, key);
  }

  /** Sends the browser to the EHR's authorization endpoint. */
  private async authorize(ctx: Context, t: RequestTiming, session: LaunchSession, key: string): Promise<void> {
    const server = await t.peer(this.servers.get(session.iss));
    const state = key + randomToken();
    const verifier = oidc.randomPKCECodeVerifier();
    await this.deps.sessions.authorizing(session, state, verifier);
    const params: Record<string, string> = {
      response_type: 'code',
      redirect_uri: this.redirectUri(),
      scope: session.scope,
      state,
      aud: session.iss,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (session.launchParam) params.launch = session.launchParam;
    redirect(ctx, oidc.buildAuthorizationUrl(server.config, params).href);
  }

  // ---- callback --------------------------------------------------------------------------------
  private async callback(ctx: Context, t: RequestTiming): Promise<void> {
    const state = single(ctx.query.state);
    const key = launchKeyOf(state);
    const session = await this.session(ctx, key);
    const stale = () => new LaunchError('the authorization state was already used', { status: 410, src: this.launch.src });
    if (!state || state !== session.state) {
      if (session.phase !== 'authorize') throw stale();
      throw new LaunchError('the authorization state does not match this browser\'s launch', { status: 400, src: this.launch.src });
    }
    const verifier = session.pkceVerifier;
    if (!verifier) throw new LaunchError('the launch session cannot be read (sealed with another key, or altered)', { status: 410, src: this.launch.src });
    if (!await this.deps.sessions.consumeState(session.idHash, state, 'done')) throw stale();
    const error = single(ctx.query.error);
    if (error) {
      await this.deps.sessions.finish(session.idHash, 'failed');
      throw authorizationError(error, single(ctx.query.error_description), this.launch.src);
    }
    const server = await t.peer(this.servers.get(session.iss));
    const current = new URL(this.redirectUri());
    for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string') current.searchParams.set(k, v);
    // The issuer an id_token (and the RFC 9207 `iss`) must name: the server's (smart-configuration
    // or its own metadata); else the callback's `iss`, which the authorization server sent.
    const callbackIss = single(ctx.query.iss);
    const issuer = server.issuer ?? (callbackIss && /^https?:\/\//.test(callbackIss) ? callbackIss : undefined);
    const config = server.issuer || !issuer ? server.config : server.configFor(issuer);
    if (!issuer) current.searchParams.delete('iss');
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await t.peer(oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state }));
      if (tokens.id_token && server.idTokenKeys && issuer) {
        await t.peer(server.idTokenKeys.verify(tokens.id_token, issuer, this.deps.resolve(this.launch.clientId)));
      }
    } catch (err) {
      await this.deps.sessions.finish(session.idHash, 'failed');
      throw tokenError(err, this.launch.src);
    }
    const granted = tokens.scope ?? session.scope;
    const missing = missingScopes(session.scope, granted);
    if (missing.length) this.deps.log.warn({ launch: this.launch.name, missing }, 'smart launch: scopes not granted');
    const context = readLaunchContext(tokens as unknown as Record<string, unknown>);
    const claims = tokens.id_token ? tokens.claims() : undefined;
    if (claims && typeof claims.fhirUser === 'string') {
      context.fhirUser = new URL(claims.fhirUser, server.fhirBase + '/').href;
    }
    const tokenSet: TokenSet = {
      accessToken: tokens.access_token,
      ...(tokens.expires_in ? { expiresAt: this.deps.now() + tokens.expires_in * 1000 } : {}),
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    };
    await this.finish(ctx, t, session, key!, config, tokenSet, granted, context);
  }

  // ---- login -----------------------------------------------------------------------------------
  private loginMethod(): Promise<LoginMethod> {
    this.login ??= createLoginMethod(this.launch.login!, this.deps.resolve, this.deps.sql).catch((err) => {
      this.login = undefined;
      throw new LaunchError(`login ${this.launch.login!.kind} cannot start: ${(err as Error).message}`, { status: 500, src: this.launch.login!.src });
    });
    return this.login;
  }

  private async beginLogin(ctx: Context, t: RequestTiming, session: LaunchSession, key: string): Promise<void> {
    const method = await this.loginMethod();
    if (method.kind === 'redirect') {
      const begun = await t.peer(method.begin(`${this.base}/login/callback`, key + randomToken()));
      await this.deps.sessions.loginStarted(session, { loginState: begun.state, loginVerifier: begun.verifier, loginNonce: begun.nonce });
      redirect(ctx, begun.url);
    } else {
      await this.deps.sessions.formShown(session, randomToken());
      redirect(ctx, this.loginPath(key));
    }
  }

  private loginPath(key: string): string {
    return `${this.base}/login?k=${encodeURIComponent(key)}`;
  }

  private async loginForm(ctx: Context): Promise<void> {
    const key = launchKeyParam(single(ctx.query.k));
    const session = await this.session(ctx, key);
    if (session.phase !== 'login' || !session.csrf) throw new LaunchError('no login is waiting in this session', { status: 410, src: this.launch.src });
    html(ctx, 200, loginFormPage(this.loginPath(key!), session.csrf));
  }

  private async loginSubmit(ctx: Context, t: RequestTiming): Promise<void> {
    const key = launchKeyParam(single(ctx.query.k));
    const session = await this.session(ctx, key);
    if (session.phase !== 'login' || !session.csrf) throw new LaunchError('no login is waiting in this session', { status: 410, src: this.launch.src });
    const action = this.loginPath(key!);
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(ctx.req, FORM_LIMIT)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new LaunchError('login form too large', { status: 413, src: this.launch.src });
      throw err;
    }
    if (!sameSecret(form.get('csrf') ?? '', session.csrf)) {
      throw new LaunchError('login form without the session\'s CSRF token', { status: 403, src: this.launch.src, publicText: 'The sign-in form has expired. Start again from your EHR.' });
    }
    const username = (form.get('username') ?? '').trim().slice(0, 256);
    const password = form.get('password') ?? '';
    const address = ctx.ip || 'unknown';
    const limiter = this.deps.rateLimiter;
    if (!limiter.allowed(address, username)) {
      this.deps.log.warn({ launch: this.launch.name }, 'smart launch: login attempts throttled');
      html(ctx, 429, loginFormPage(action, session.csrf, 'Too many failed attempts. Wait a few minutes and try again.'));
      return;
    }
    const method = await this.loginMethod();
    if (method.kind !== 'form') throw new LaunchError('this launch does not use a login form', { status: 404, src: this.launch.src });
    let claims: Claims | null;
    try {
      claims = await t.peer(method.verify(username, password));
    } catch (err) {
      if (err instanceof LoginUnavailableError) throw new LaunchError(err.message, { status: 502, src: this.launch.login!.src, cause: err });
      throw err;
    }
    if (!claims) {
      limiter.failed(address, username);
      this.deps.log.info({ launch: this.launch.name, login: this.launch.login!.kind }, 'smart launch: login failed');
      html(ctx, 401, loginFormPage(action, session.csrf, 'Invalid user name or password.'));
      return;
    }
    limiter.succeeded(address, username);
    const user = await this.userFromClaims(claims, session);
    if (!await this.deps.sessions.loggedIn(session, user)) throw new LaunchError('the login was already completed', { status: 410, src: this.launch.src });
    await this.authorize(ctx, t, { ...session, phase: 'authorize' }, key!);
  }

  private async loginCallback(ctx: Context, t: RequestTiming): Promise<void> {
    const state = single(ctx.query.state);
    const key = launchKeyOf(state);
    const session = await this.session(ctx, key);
    if (session.phase !== 'login' || !session.loginState) throw new LaunchError('no login is waiting in this session', { status: 410, src: this.launch.src });
    if (!state || !sameSecret(state, session.loginState)) throw new LaunchError('the login state does not match this browser\'s launch', { status: 400, src: this.launch.src });
    if (!await this.deps.sessions.consumeLoginState(session.idHash, session.loginState)) {
      throw new LaunchError('the login state was already used', { status: 410, src: this.launch.src });
    }
    const method = await this.loginMethod();
    if (method.kind !== 'redirect') throw new LaunchError('this launch does not use an identity provider', { status: 404, src: this.launch.src });
    const current = new URL(`${this.base}/login/callback`);
    for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string') current.searchParams.set(k, v);
    let claims: Claims;
    try {
      claims = await t.peer(method.finish(current, { state: session.loginState, verifier: session.loginVerifier!, nonce: session.loginNonce! }));
    } catch (err) {
      await this.deps.sessions.finish(session.idHash, 'failed');
      if (err instanceof LoginRefusedError) throw new LaunchError(`login refused: ${err.message}`, { status: 403, src: this.launch.login!.src, publicText: 'Sign-in at your identity provider did not succeed.' });
      if (err instanceof LoginUnavailableError) throw new LaunchError(err.message, { status: 502, src: this.launch.login!.src, cause: err });
      throw err;
    }
    const user = await this.userFromClaims(claims, session);
    if (!await this.deps.sessions.loggedIn(session, user)) throw new LaunchError('the login was already completed', { status: 410, src: this.launch.src });
    await this.authorize(ctx, t, { ...session, phase: 'authorize' }, key!);
  }

  /** The login's require/map, or a 403. */
  private async userFromClaims(claims: Claims, session: LaunchSession): Promise<Record<string, unknown>> {
    const result = authorizeUser(this.launch.login!, claims, this.deps.resolve);
    if (!result.ok) {
      await this.deps.sessions.finish(session.idHash, 'failed');
      throw new LaunchError('the signed-in user does not meet the login requirement', {
        status: 403,
        src: this.launch.login!.require?.src ?? this.launch.login!.src,
        publicText: 'Your account is not allowed to use this app.',
      });
    }
    return result.user;
  }

  // ---- completion ------------------------------------------------------------------------------
  private async finish(
    ctx: Context, t: RequestTiming, session: LaunchSession, key: string, config: oidc.Configuration,
    tokens: TokenSet, granted: string, context: Record<string, unknown>,
  ): Promise<void> {
    const auth = new LaunchTokenAuth(
      tokens,
      // Refreshed with the configuration the code was exchanged with (same expected issuer).
      tokens.refreshToken ? (rt) => refreshTokens(config, rt, this.deps.now) : undefined,
      () => this.deps.log.info({ launch: this.launch.name }, 'smart launch: access token refreshed'),
      this.deps.now,
    );
    // Only the time on the wire counts as the peers'; parsing and evaluating is the connector's.
    const transport: Transport = { send: (req) => t.peer(this.deps.transport.send(req)) };
    const done = await completeLaunch({
      launch: this.launch,
      fhirBase: session.iss,
      auth,
      transport,
      context,
      user: this.launch.login ? session.user : null,
      granted,
      ...(this.launch.sign ? { signingSecret: this.deps.resolve(this.launch.sign.secret) } : {}),
      secrets: this.deps.resolve,
      now: this.deps.now(),
    }).catch(async (err) => {
      await this.deps.sessions.finish(session.idHash, 'failed');
      this.deps.cookie.clear(ctx, key);
      throw err;
    });
    // The refresh token is not kept: nothing runs for this launch after the redirect.
    await this.deps.sessions.finish(session.idHash, 'done');
    this.deps.cookie.clear(ctx, key);
    this.deps.onOutcome?.('completed');
    this.deps.log.info({ launch: this.launch.name, rule: done.index, src: srcLine(done.rule.src), target: done.rule.to }, 'smart launch completed');
    redirect(ctx, done.url);
  }

  /** Releases the login method's connections (PostgreSQL pool). */
  async close(): Promise<void> {
    const login = await this.login?.catch(() => undefined);
    if (login?.kind === 'form') await login.close?.();
  }

  // ---- helpers ---------------------------------------------------------------------------------
  /** The browser's launch session: present, of this launch, not expired. */
  private async session(ctx: Context, key: string | undefined): Promise<LaunchSession> {
    const id = key ? this.deps.cookie.read(ctx, key) : undefined;
    const session = id ? await this.deps.sessions.get(id) : undefined;
    if (!session || session.launch !== this.launch.name) {
      throw new LaunchError('no launch session in this browser (cookie missing, or the launch began in another browser)', { status: 400, src: this.launch.src });
    }
    if (this.deps.sessions.isExpired(session)) throw new LaunchError('the launch session has expired', { status: 410, src: this.launch.src });
    if (session.phase === 'done' || session.phase === 'failed') throw new LaunchError(`the launch session is already ${session.phase}`, { status: 410, src: this.launch.src });
    return session;
  }

  private fail(ctx: Context, err: unknown): void {
    const id = correlationId();
    const e = err instanceof LaunchError ? err : new LaunchError(`unexpected error: ${(err as Error)?.message ?? err}`, { status: 500, src: this.launch.src, cause: err });
    const cause = causeOf(e);
    const entry = { launch: this.launch.name, correlationId: id, status: e.status, err: e.message, ...(cause && cause !== e.message ? { cause } : {}) };
    if (e.status >= 500) this.deps.log.error(entry, 'smart launch failed');
    else this.deps.log.warn(entry, 'smart launch refused');
    this.deps.onOutcome?.(e.status >= 500 ? 'failed' : 'refused');
    html(ctx, e.status, errorPage(e.publicText, id));
  }
}

async function refreshTokens(config: oidc.Configuration, refreshToken: string, now: () => number): Promise<TokenSet> {
  const r = await oidc.refreshTokenGrant(config, refreshToken);
  return {
    accessToken: r.access_token,
    ...(r.expires_in ? { expiresAt: now() + r.expires_in * 1000 } : {}),
    ...(r.refresh_token ? { refreshToken: r.refresh_token } : {}),
  };
}

/** The EHR's authorization server answered the callback with an error. */
function authorizationError(error: string, description: string | undefined, src: string): LaunchError {
  const code = error.slice(0, 64);
  const why = `the EHR's authorization server answered ${code}${describeText(description)}`;
  if (code === 'access_denied') return new LaunchError(why, { status: 403, src, publicText: 'Access was not granted, so the app cannot open.' });
  // An unknown or expired `launch` id: opening the app again from the EHR makes a new one.
  if ((code === 'invalid_request' || code === 'invalid_scope') && /launch/i.test(description ?? '')) {
    return new LaunchError(why, { status: 400, src, publicText: UNKNOWN_LAUNCH_TEXT });
  }
  if (code === 'invalid_scope') return new LaunchError(why, { status: 403, src, publicText: SCOPE_REFUSED_TEXT });
  return new LaunchError(why, { status: 502, src });
}

/** The innermost cause's message, when it says more than the error itself (no tokens: messages only). */
function causeOf(e: LaunchError): string | undefined {
  let c: unknown = e.cause;
  let last: string | undefined;
  for (let i = 0; i < 5 && c instanceof Error; i++) {
    last = `${c.name}: ${c.message}`;
    c = c.cause;
  }
  return last && !e.message.includes(last) ? last.slice(0, 300) : undefined;
}

function launchKeyParam(k: string | undefined): string | undefined {
  return k && k.length === LAUNCH_KEY_LENGTH && /^[A-Za-z0-9_-]+$/.test(k) ? k : undefined;
}

function single(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function sameBase(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function safeOrigin(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return '(not a URL)';
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function redirect(ctx: Context, url: string): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.status = 302;
  ctx.set('Location', url);
  ctx.body = '';
}

function html(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}
