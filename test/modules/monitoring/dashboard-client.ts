// A cookie-keeping HTTP client for the dashboard in tests: signs in through the real form (its
// CSRF cookie and field) and sends GETs and form POSTs as a browser would.
import { request } from 'node:http';

export interface Reply {
  status: number;
  location: string | undefined;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export class DashboardClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  send(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${path}`, {
        method, agent: false,
        headers: {
          ...(this.cookies.size ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      }, (res) => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair] = c.split(';');
          const eq = pair!.indexOf('=');
          const name = pair!.slice(0, eq);
          const value = pair!.slice(eq + 1);
          if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
          else this.cookies.set(name, value);
        }
        const chunks: Buffer[] = [];
        res.on('data', (x: Buffer) => chunks.push(x));
        res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string): Promise<Reply> {
    return this.send('GET', path);
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('POST', path, form, headers);
  }

  /** Signs in through the form; the reply to the POST. */
  async signIn(username: string, password: string): Promise<Reply> {
    const page = await this.get('/login');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!csrf) throw new Error('no CSRF field on the sign-in page');
    return this.post('/login', { csrf, username, password });
  }

  /** The CSRF token of the signed-in session, read from a page's forms. */
  async csrf(): Promise<string> {
    const page = await this.get('/');
    const t = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!t) throw new Error('no CSRF token on the page (signed in?)');
    return t;
  }
}
