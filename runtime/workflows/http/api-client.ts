// One declared API: URL confinement, default headers, authentication (one fresh credential and
// one retry on 401), retries with backoff for what is safe to repeat, and errors that name the
// `.hdc` line and say whether trying later could help.
import type { AuthProvider } from '../auth/auth-provider.ts';
import { WorkflowError } from '../workflow-error.ts';
import { ApiBase } from './api-url.ts';
import { backoffDelay, isRefusedUnprocessed, isTransientStatus, parseRetryAfter } from './retry-policy.ts';
import { TransportError, type ApiRequest, type ApiResponse, type Transport, type WireResponse } from './types.ts';
import { parseXml, XmlError } from './xml.ts';

export interface ResolvedApi {
  name: string;
  kind: 'fhir' | 'rest' | 'hl7';
  baseUrl: string;
  /** fhir APIs: `fhir` validates request bodies before they are sent. */
  validate?: 'fhir' | 'none';
  format?: 'json' | 'text' | 'xml';
  headers: Record<string, string>;
  timeoutMs: number;
  retry: { attempts: number; backoffMs: number };
  src?: string;
}

export interface ApiClientOptions {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** A Retry-After longer than this is not waited for in-line: the run retries later instead. */
  maxRetryAfterMs?: number;
  /** Observes every attempt (status or transport error), e.g. for metrics and `hdc test`. */
  onAttempt?: (info: { api: string; method: string; url: string; status?: number; error?: string; ms: number }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ApiClient {
  readonly base: ApiBase;

  constructor(
    readonly api: ResolvedApi,
    private readonly transport: Transport,
    private readonly auth?: AuthProvider,
    private readonly options: ApiClientOptions = {},
  ) {
    this.base = new ApiBase(api.baseUrl);
  }

  async request(req: ApiRequest): Promise<ApiResponse> {
    const { url, apiPath } = this.base.resolve(req.path, req.query, req.src);
    const sleep = this.options.sleep ?? defaultSleep;
    const maxAttempts = Math.max(1, this.api.retry.attempts);
    const maxRetryAfter = this.options.maxRetryAfterMs ?? 60_000;
    let attempt = 0;
    let reauthenticated = false;

    for (;;) {
      attempt++;
      const headers: Record<string, string> = { ...this.api.headers, ...req.headers };
      if (req.propagate) addMissing(headers, req.propagate);
      let credential: string | undefined;
      if (this.auth) {
        credential = await this.auth.authorization(req.src);
        headers.authorization = credential;
      }
      const started = performance.now();
      let res: WireResponse;
      try {
        res = await this.transport.send({
          api: this.api.name,
          method: req.method,
          url,
          apiPath,
          headers,
          body: req.body,
          timeoutMs: this.api.timeoutMs,
          step: req.step,
          resourceType: req.resourceType,
        });
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        this.options.onAttempt?.({ api: this.api.name, method: req.method, url: url.pathname, error: err.code, ms: performance.now() - started });
        const api = this.api.name;
        if (err.permanent) throw new WorkflowError(`${req.label} failed: ${err.message}`, { transient: false, src: req.src, api });
        const repeatable = req.idempotent || err.notSent;
        if (repeatable && attempt < maxAttempts) {
          await sleep(backoffDelay(attempt, this.api.retry.backoffMs, this.options.random));
          continue;
        }
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        if (!repeatable) {
          // The request may have been processed: repeating it blindly could duplicate a write.
          throw new WorkflowError(`${req.label} failed: ${err.message}${tries}; not retried, the ${req.method} may have been processed`, {
            transient: false,
            src: req.src,
            api,
          });
        }
        throw new WorkflowError(`${req.label} failed: ${err.message}${tries}`, { transient: true, src: req.src, api });
      }
      this.options.onAttempt?.({ api: this.api.name, method: req.method, url: url.pathname, status: res.status, ms: performance.now() - started });

      if (res.status === 401 && this.auth && credential && !reauthenticated) {
        reauthenticated = true;
        if (await this.auth.refresh(credential, req.src)) {
          attempt--; // the retry after a fresh token is not a transient-failure retry
          continue;
        }
      }

      if (isTransientStatus(res.status)) {
        const retryAfterHeader = header(res, 'retry-after');
        const retryAfter = parseRetryAfter(retryAfterHeader);
        const repeatable = req.idempotent || isRefusedUnprocessed(res.status, retryAfterHeader);
        if (repeatable && attempt < maxAttempts && (retryAfter === undefined || retryAfter <= maxRetryAfter)) {
          await sleep(retryAfter ?? backoffDelay(attempt, this.api.retry.backoffMs, this.options.random));
          continue;
        }
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        if (!repeatable) {
          throw new WorkflowError(
            `${req.label} failed: ${statusText(res)}${tries}; not retried, the ${req.method} may have been processed`,
            { transient: false, src: req.src, status: res.status, api: this.api.name },
          );
        }
        throw new WorkflowError(`${req.label} failed: ${statusText(res)}${tries}`, {
          transient: true,
          src: req.src,
          status: res.status,
          retryAfterMs: retryAfter,
          api: this.api.name,
        });
      }
      if (res.status >= 400) {
        throw new WorkflowError(`${req.label} failed: ${statusText(res)}`, { transient: false, src: req.src, status: res.status, api: this.api.name });
      }
      return { status: res.status, headers: flattenHeaders(res.headers), ...readBody(res, req), url: url.href };
    }
  }
}

/** Adds the headers not already set, whatever their case. */
function addMissing(headers: Record<string, string>, extra: Record<string, string>): void {
  const set = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(extra)) if (!set.has(k.toLowerCase())) headers[k] = v;
}

function header(res: WireResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function statusText(res: WireResponse): string {
  return res.statusMessage ? `${res.status} ${res.statusMessage}` : String(res.status);
}

function flattenHeaders(h: WireResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function readBody(res: WireResponse, req: ApiRequest): { body: unknown; json?: string; text?: string } {
  const text = res.body.toString('utf8');
  if (req.responseType === 'text') return { body: text };
  if (text.trim() === '') return { body: null };
  if (req.responseType === 'xml') {
    try {
      return { body: parseXml(text), text };
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      // The reason and line only: the content may hold patient data.
      throw new WorkflowError(`${req.label}: the response (${res.status}) is not well-formed XML: ${err.message}`, { transient: false, src: req.src, status: res.status });
    }
  }
  try {
    return { body: JSON.parse(text), json: text };
  } catch {
    throw new WorkflowError(`${req.label}: the response (${res.status}) is not JSON`, { transient: false, src: req.src, status: res.status });
  }
}
