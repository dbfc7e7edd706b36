// The connector's own login page (ldap, users and postgres logins). The form carries a CSRF token
// bound to the launch session; the page forbids framing and caching.
import { escapeHtml, htmlPage } from '../html-page.ts';

export function loginFormPage(action: string, csrf: string, message?: string): string {
  const alert = message ? `<p role="alert" id="login-error">${escapeHtml(message)}</p>` : '';
  return htmlPage(
    'Sign in',
    `${alert}<form method="post" action="${escapeHtml(action)}" autocomplete="on">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
      `<p><label for="username">User name</label><br><input id="username" name="username" autocomplete="username" required></p>` +
      `<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>` +
      `<p><button id="login" type="submit">Sign in</button></p></form>`,
  );
}
