// Builds request URLs under a declared API base and refuses any that would leave it: a value
// interpolated into a path (`..`, `%2e%2e`, an absolute URL) or a server-sent `next` link must
// never send a request, and the API's credentials, somewhere else.
import { WorkflowError } from '../workflow-error.ts';

export interface ApiUrl {
  url: URL;
  /** The path below the base, without a leading slash and without the query. */
  apiPath: string;
}

export class ApiBase {
  readonly base: URL;
  /** The base path with a trailing slash, e.g. `/fhir/`. */
  private readonly prefix: string;
  /** The base as declared: an empty path means exactly this URL (no trailing slash added). */
  private readonly exact: string;

  constructor(baseUrl: string) {
    const base = new URL(baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`API base ${baseUrl} is not http(s)`);
    base.search = '';
    base.hash = '';
    this.exact = base.href;
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.prefix = base.pathname;
  }

  /**
   * `path` is relative to the base (leading slashes ignored: `/charges` means `{base}/charges`)
   * or an absolute URL that must lie under the base.
   */
  resolve(path: string, query: Array<[string, string]> = [], src?: string): ApiUrl {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(path);
    const relative = path.replace(/^\/+/, '');
    const url = absolute ? new URL(path) : relative === '' ? new URL(this.exact) : new URL(relative, this.base);
    if (!this.contains(url)) {
      throw new WorkflowError(`request URL leaves the API base ${this.base.origin}${this.prefix}`, { transient: false, src });
    }
    for (const [k, v] of query) url.searchParams.append(k, v);
    url.hash = '';
    const apiPath = url.pathname.length >= this.prefix.length ? url.pathname.slice(this.prefix.length) : '';
    return { url, apiPath };
  }

  contains(url: URL): boolean {
    if (url.origin !== this.base.origin || url.username || url.password) return false;
    return url.pathname === this.prefix.slice(0, -1) || url.pathname.startsWith(this.prefix);
  }
}

/**
 * Percent-encodes a value for one path segment. `.` and `..` are refused: URL parsers treat
 * them (and their encoded forms) as dot segments, which would climb the path.
 */
export function encodePathSegment(value: string, src?: string): string {
  if (value === '.' || value === '..' || value === '') {
    throw new WorkflowError(`a path value is ${value === '' ? 'empty' : `"${value}"`}`, { transient: false, src });
  }
  return encodeURIComponent(value);
}
