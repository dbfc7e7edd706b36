// Follows HTTP redirects by hand with a cookie jar, the way a browser would, so OAuth / SMART
// flows can be driven without a browser: start at an authorize (or launch) URL and stop when the
// next hop reaches the client's redirect URI.

/** Cookies by origin; enough for loopback peers (no domain or path scoping). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    let jar = this.byOrigin.get(origin);
    if (!jar) this.byOrigin.set(origin, (jar = new Map()));
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        return (
          (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
          (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now())
        );
      });
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(url: string): string | undefined {
    const jar = this.byOrigin.get(new URL(url).origin);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface WalkResult {
  /** The URL where the walk stopped: the first hop for which `stopWhen` was true, or the last URL fetched. */
  url: string;
  /** True when stopped by `stopWhen` (the URL was not fetched). */
  stopped: boolean;
  /** Status of the last response fetched. */
  status: number;
  /** Body of the last response fetched (e.g. a login page). */
  body: string;
  hops: string[];
}

export interface WalkOptions {
  jar?: CookieJar;
  /** Stop before fetching a URL for which this returns true (e.g. the client's redirect URI). */
  stopWhen?: (url: URL) => boolean;
  maxHops?: number;
  /** The first request is a form POST with these fields. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export async function walkRedirects(start: string, opts: WalkOptions = {}): Promise<WalkResult> {
  const jar = opts.jar ?? new CookieJar();
  const hops: string[] = [];
  let url = start;
  let form = opts.form;
  for (let i = 0; i < (opts.maxHops ?? 20); i++) {
    if (opts.stopWhen?.(new URL(url))) return { url, stopped: true, status: 0, body: '', hops };
    hops.push(url);
    const headers: Record<string, string> = { ...opts.headers };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    form = undefined;
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url).href;
      continue;
    }
    return { url, stopped: false, status: res.status, body: await res.text(), hops };
  }
  throw new Error(`more than ${opts.maxHops ?? 20} redirects from ${start}`);
}

/** Finds a form in an HTML page by a fragment of its action URL and resolves that action. */
export function formAction(html: string, base: string, actionContains: string): string {
  for (const m of html.matchAll(/<form[^>]*action="([^"]+)"/g)) {
    const action = m[1].replace(/&amp;/g, '&');
    if (action.includes(actionContains)) return new URL(action, base).href;
  }
  throw new Error(`no form with an action containing ${actionContains}`);
}
