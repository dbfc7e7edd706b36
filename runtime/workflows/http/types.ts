// The shapes that cross the HTTP layer. The engine builds ApiRequests; an ApiClient turns each
// into one or more WireRequests (retries, auth refresh) handed to a Transport — got in
// production, fixtures under `hdc test`.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  method: HttpMethod;
  /**
   * Path relative to the API base, already percent-encoded (e.g. `Patient/123`), or an absolute
   * URL such as a FHIR `next` link. Either way the final URL must lie under the API base.
   */
  path: string;
  /** Ordered pairs: FHIR allows a parameter to repeat. */
  query?: Array<[string, string]>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Safe to send twice (GET/PUT/DELETE, conditional create): decides whether retries are allowed. */
  idempotent: boolean;
  /** How the response body is read (xml: parsed by xml.ts into a navigable value). */
  responseType: 'json' | 'text' | 'xml';
  /** Words for messages, e.g. `GET ehr Patient`. */
  label: string;
  /** The plan node behind the request: named in errors. */
  src?: string;
  /** Step id and resource type, which `hdc test` mocks match on. */
  step?: string;
  resourceType?: string;
  /** Headers the runtime adds for a module (trace context); one the step or the API sets itself wins. */
  propagate?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The body's JSON text as received, when `body` was parsed from it (saves serialising it again). */
  json?: string;
  /** The body's text as received when it was read as XML (kept for the run history). */
  text?: string;
  /** The URL finally requested (without credentials). */
  url: string;
}

/** One attempt on the wire. */
export interface WireRequest {
  api: string;
  method: HttpMethod;
  url: URL;
  /** `url`'s path relative to the API base, without the query (what mocks match). */
  apiPath: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  step?: string;
  resourceType?: string;
}

export interface WireResponse {
  status: number;
  statusMessage?: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Transport {
  send(req: WireRequest): Promise<WireResponse>;
  close?(): void;
}

/**
 * A request that failed below HTTP. `notSent` is true only when the request provably never
 * reached the server (refused connection, DNS failure, connect timeout): the one case where a
 * non-idempotent request may be sent again.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly notSent: boolean,
    readonly timedOut: boolean,
    /** Retrying cannot help (e.g. an untrusted certificate). */
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
