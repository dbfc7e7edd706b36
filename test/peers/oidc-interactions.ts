// Login and consent pages for the oidc-provider peers (SMART auth server and IdP): plain HTML
// forms a real browser can fill, an auto mode for non-browser tests and benchmarks, and a deny
// mode that ends the flow with `error=access_denied`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { readBody } from './http-recording.ts';

export interface PeerUser {
  username: string;
  password: string;
  /** Extra OIDC claims (email, groups, name, fhirUser, ...). */
  claims?: Record<string, unknown>;
}

/** `form`: login and consent pages; `auto`: sign in `autoUser` and approve; `deny`: refuse consent. */
export type InteractionMode = 'form' | 'auto' | 'deny';

export interface InteractionParams {
  client_id: string;
  scope?: string;
  [key: string]: unknown;
}

export interface InteractionHooks {
  provider: Provider;
  users: PeerUser[];
  title: string;
  mode(): InteractionMode;
  autoUser(): string | undefined;
  /** Adds the requested scopes to a grant (OIDC scopes and resource scopes). */
  fillGrant(grant: InstanceType<Provider['Grant']>, params: InteractionParams): void;
  /**
   * Called before consent: may refuse the request (e.g. an unknown SMART `launch`) or add form
   * fields (a patient picker).
   */
  beforeConsent?(params: InteractionParams): { error?: string; errorDescription?: string; fieldsHtml?: string };
  /** Called once the grant is saved, with the submitted consent form (empty in auto mode). */
  afterGrant?(grantId: string, params: InteractionParams, form: URLSearchParams): void;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(html)),
  });
  res.end(html);
}

/** Returns a handler for `/interaction/...`; it answers true when the request was one of its routes. */
export function interactionHandler(h: InteractionHooks) {
  const { provider } = h;

  async function grantAll(accountId: string, params: InteractionParams, existingGrantId: string | undefined, form: URLSearchParams) {
    const grant = existingGrantId
      ? ((await provider.Grant.find(existingGrantId)) ?? new provider.Grant({ accountId, clientId: params.client_id }))
      : new provider.Grant({ accountId, clientId: params.client_id });
    h.fillGrant(grant, params);
    const grantId = await grant.save();
    h.afterGrant?.(grantId, params, form);
    return grantId;
  }

  const deny = (req: IncomingMessage, res: ServerResponse, description: string) =>
    provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: description },
      { mergeWithLastSubmission: false },
    );

  function loginPage(uid: string, clientId: string, error?: string): string {
    return page(
      h.title,
      `<p>Sign in to continue to <strong>${esc(clientId)}</strong>.</p>` +
        (error ? `<p role="alert" class="error">${esc(error)}</p>` : '') +
        `<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">` +
        `<label for="username">Username</label> <input id="username" name="username" required autofocus><br>` +
        `<label for="password">Password</label> <input id="password" name="password" type="password" required><br>` +
        `<button type="submit" id="login">Sign in</button></form>` +
        `<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit" id="cancel">Cancel</button></form>`,
    );
  }

  function consentPage(uid: string, params: InteractionParams, fieldsHtml = ''): string {
    const scopes = (params.scope ?? '').split(' ').filter(Boolean);
    return page(
      h.title,
      `<p><strong>${esc(params.client_id)}</strong> asks for:</p><ul id="scopes">` +
        scopes.map((s) => `<li>${esc(s)}</li>`).join('') +
        `</ul><form method="post" action="/interaction/${esc(uid)}/confirm">${fieldsHtml}` +
        `<button type="submit" name="decision" value="approve" id="approve">Allow</button> ` +
        `<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>`,
    );
  }

  return async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
    if (!m) return false;
    const [, uid, action] = m;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      sendHtml(res, 400, page(h.title, '<p>Interaction mismatch.</p>'));
      return true;
    }
    const params = details.params as InteractionParams;
    const promptName = details.prompt.name;
    const mode = h.mode();

    if (req.method === 'GET' && !action) {
      if (mode === 'deny') {
        await deny(req, res, 'The user denied the request');
        return true;
      }
      if (promptName === 'login') {
        if (mode === 'auto') {
          const user = h.autoUser();
          if (!user) throw new Error('auto interaction mode needs a user');
          const pre = h.beforeConsent?.(params);
          if (pre?.error) {
            await provider.interactionFinished(req, res, { error: pre.error, error_description: pre.errorDescription });
            return true;
          }
          // Sign in and approve in one step: one redirect less per launch.
          const grantId = await grantAll(user, params, undefined, new URLSearchParams());
          await provider.interactionFinished(
            req,
            res,
            { login: { accountId: user }, consent: { grantId } },
            { mergeWithLastSubmission: false },
          );
          return true;
        }
        sendHtml(res, 200, loginPage(uid, params.client_id));
        return true;
      }
      // consent
      const pre = h.beforeConsent?.(params);
      if (pre?.error) {
        await provider.interactionFinished(req, res, { error: pre.error, error_description: pre.errorDescription });
        return true;
      }
      if (mode === 'auto') {
        const grantId = await grantAll(details.session!.accountId, params, details.grantId, new URLSearchParams());
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return true;
      }
      sendHtml(res, 200, consentPage(uid, params, pre?.fieldsHtml));
      return true;
    }

    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return true;
    }
    const form = new URLSearchParams(await readBody(req));
    if (action === 'abort') {
      await deny(req, res, 'The user cancelled the sign-in');
      return true;
    }
    if (action === 'login') {
      const user = h.users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
      if (!user) {
        sendHtml(res, 200, loginPage(uid, params.client_id, 'Invalid username or password'));
        return true;
      }
      const result: InteractionResults = { login: { accountId: user.username } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return true;
    }
    if (action === 'confirm') {
      if (form.get('decision') !== 'approve') {
        await deny(req, res, 'The user denied the request');
        return true;
      }
      const grantId = await grantAll(details.session!.accountId, params, details.grantId, form);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return true;
    }
    return false;
  };
}

export { esc as escapeHtml };

/** The request listener of an oidc-provider peer: `/interaction/...` here, the rest to the provider. */
export function oidcRequestListener(
  provider: Provider,
  interactions: ReturnType<typeof interactionHandler>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const callback = provider.callback();
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!path.startsWith('/interaction/')) {
      void callback(req, res);
      return;
    }
    interactions(req, res, path)
      .then((handled) => {
        if (!handled && !res.headersSent) res.writeHead(404).end();
      })
      .catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`interaction failed: ${(err as Error).message}`);
        }
      });
  };
}
