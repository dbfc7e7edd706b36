// A real FHIR R4 server for tests and benchmarks: @medplum/fhir-router with its in-memory
// repository behind node:http on 127.0.0.1 (port 0), optionally seeded from the Synthea corpus,
// optionally protected by bearer tokens from the auth server (auth-server.ts).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { getStatus, isCreated } from '@medplum/core';
import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import { indexFhirDefinitions, isR4ResourceType, r4ResourceTypeList, r4SearchParameters } from './fhir-definitions.ts';
import {
  applyFault,
  FaultInjector,
  readBody,
  recordRequest,
  type Fault,
  type RecordedRequest,
} from './http-recording.ts';
import { listenLoopback, type TlsKeyPair } from './listen.ts';
import { scopePermits, type Interaction } from './smart-scopes.ts';
import { readSeedBundle, syntheaBundleFiles } from './synthea.ts';

export type { Fault, RecordedRequest } from './http-recording.ts';

export type VerifyToken = (token: string) => Promise<{ scope: string } | null>;

export interface FhirServerOptions {
  /** `'synthea'`: the 10 bundles of ../shared/corpus/fhir/synthea; or transaction bundle file paths. */
  seed?: 'synthea' | string[];
  /** When given, every request except /metadata and /.well-known needs `Authorization: Bearer`. */
  verifyToken?: VerifyToken;
  /** With `verifyToken`: check the granted SMART scopes against each interaction (default true). */
  enforceScopes?: boolean;
  /** Default '/fhir'. Use '' to serve at the root. */
  basePath?: string;
  /** Served at `{base}/.well-known/smart-configuration` (404 without it). */
  smartConfig?: object;
  /** Page size when a search has no `_count` (default 20, like HAPI). */
  defaultCount?: number;
  /** Serve HTTPS with this key pair instead of HTTP. */
  tls?: TlsKeyPair;
  /** A fixed port (a demo); default: any free one. */
  port?: number;
  /**
   * Extra routes tried before the FHIR router (e.g. `$export` for Bulk Data tests). Return true
   * when the request was answered. `path` is relative to the base, without a leading slash.
   */
  routes?: (ctx: ExtraRouteContext) => boolean | Promise<boolean>;
}

export interface ExtraRouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  url: URL;
  body: unknown;
  repo: MemoryRepository;
  baseUrl: string;
}

export interface FhirServer {
  /** e.g. `http://127.0.0.1:40123/fhir` (no trailing slash). */
  baseUrl: string;
  /** e.g. `http://127.0.0.1:40123`. */
  origin: string;
  /** Every request received, oldest first (clear with `requests.length = 0`). */
  requests: RecordedRequest[];
  /** Makes the next matching request(s) fail or stall; see `Fault`. `pathPrefix` is e.g. '/fhir/Encounter'. */
  fault(f: Fault): void;
  clearFaults(): void;
  /** Protect the server after start (the auth server usually needs the FHIR base first). */
  /**
   * `proxyOutside`: requests outside the FHIR base go to this origin (same path, same Host
   * header), so an authorization server appears on the FHIR server's origin — an EHR whose
   * smart-configuration lists endpoints relative to the FHIR base.
   */
  attachAuth(auth: { verifyToken?: VerifyToken; smartConfig?: object; enforceScopes?: boolean; proxyOutside?: string }): void;
  /** The in-memory repository, for direct reads and writes from tests. */
  repo: MemoryRepository;
  router: FhirRouter;
  /** Milliseconds spent seeding. */
  seedMs: number;
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json';

function outcome(code: string, text: string, severity: 'error' | 'information' = 'error'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code: code as 'invalid', details: { text } }] };
}

/** POSTs transaction bundles through the router, failing loudly when an entry does not commit. */
export async function seedRepository(router: FhirRouter, repo: MemoryRepository, files: string[]): Promise<void> {
  for (const file of files) {
    const body = readSeedBundle(file);
    const [result, bundle] = await router.handleRequest(
      { method: 'POST', url: '', pathname: '', body, params: {}, query: {} },
      repo,
    );
    const status = getStatus(result);
    if (status >= 300) throw new Error(`seeding ${file} failed: ${JSON.stringify(result)}`);
    const failed = (bundle as Bundle | undefined)?.entry?.find((e) => !e.response?.status?.startsWith('2'));
    if (failed) throw new Error(`seeding ${file}: entry failed: ${JSON.stringify(failed.response)}`);
  }
}

let capabilityRest: CapabilityStatement['rest'] | undefined;

function capabilityStatement(baseUrl: string, smartConfig: Record<string, unknown> | undefined): CapabilityStatement {
  capabilityRest ??= [
    {
      mode: 'server',
      interaction: [{ code: 'transaction' }, { code: 'batch' }],
      resource: r4ResourceTypeList().map((type) => ({
        type: type as 'Patient',
        interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'create', 'search-type'].map(
          (code) => ({ code: code as 'read' }),
        ),
        versioning: 'versioned',
        conditionalCreate: true,
        conditionalUpdate: true,
        conditionalDelete: 'single',
        searchParam: r4SearchParameters(type).map((sp) => ({
          name: sp.code as string,
          definition: sp.url,
          type: sp.type as 'token',
        })),
      })),
    },
  ];
  const rest = capabilityRest.map((r) => ({ ...r }));
  if (smartConfig) {
    const ext: Array<{ url: string; valueUri: string }> = [];
    for (const [name, key] of [
      ['authorize', 'authorization_endpoint'],
      ['token', 'token_endpoint'],
      ['revoke', 'revocation_endpoint'],
      ['introspect', 'introspection_endpoint'],
    ] as const) {
      const v = smartConfig[key];
      if (typeof v === 'string') ext.push({ url: name, valueUri: v });
    }
    rest[0].security = {
      service: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
          ],
        },
      ],
      extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: ext }],
    };
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'hdc test FHIR server (@medplum/fhir-router)', version: '4.5.2' },
    implementation: { description: 'In-memory FHIR R4 server for tests', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest,
  };
}

/** The SMART interaction an HTTP request needs, or null when no check applies (e.g. transaction). */
function requiredInteraction(method: string, segments: string[], hasQuery: boolean): Interaction | null {
  const [, id] = segments;
  switch (method) {
    case 'GET':
    case 'HEAD':
      return id && id !== '_search' ? 'r' : 's';
    case 'POST':
      return id === '_search' ? 's' : 'c';
    case 'PUT':
    case 'PATCH':
      return id || hasQuery ? 'u' : null;
    case 'DELETE':
      return 'd';
    default:
      return null;
  }
}

export async function startFhirServer(opts: FhirServerOptions = {}): Promise<FhirServer> {
  indexFhirDefinitions();
  const basePath = (opts.basePath ?? '/fhir').replace(/\/$/, '');
  const defaultCount = opts.defaultCount ?? 20;
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const requests: RecordedRequest[] = [];
  const faults = new FaultInjector();
  let verifyToken = opts.verifyToken;
  let enforceScopes = opts.enforceScopes ?? true;
  let smartConfig = opts.smartConfig as Record<string, unknown> | undefined;

  const started = performance.now();
  if (opts.seed) await seedRepository(router, repo, opts.seed === 'synthea' ? syntheaBundleFiles() : opts.seed);
  const seedMs = performance.now() - started;

  let baseUrl = '';

  function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) {
    record.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': `${FHIR_JSON}; charset=utf-8`,
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const record = recordRequest(req, url, raw);
    requests.push(record);

    const fault = faults.take(method, url.pathname);
    if (fault && (await applyFault(fault, res, record, (s) => outcome('transient', `injected fault ${s}`), FHIR_JSON))) return;

    if (basePath && url.pathname !== basePath && !url.pathname.startsWith(basePath + '/')) {
      return send(res, record, 404, outcome('not-found', `not under ${basePath}`));
    }
    const rel = url.pathname.slice(basePath.length).replace(/^\/+/, '').replace(/\/+$/, '');
    const segments = rel === '' ? [] : rel.split('/').map(decodeURIComponent);

    if (method === 'GET' && rel === 'metadata') {
      return send(res, record, 200, capabilityStatement(baseUrl, smartConfig));
    }
    if (method === 'GET' && rel === '.well-known/smart-configuration') {
      if (!smartConfig) return send(res, record, 404, outcome('not-found', 'no SMART configuration'));
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(smartConfig));
      return;
    }

    let grantedScope: string | undefined;
    if (verifyToken) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const claims = m ? await verifyToken(m[1]) : null;
      if (!claims) {
        const challenge = m ? 'Bearer realm="fhir", error="invalid_token"' : 'Bearer realm="fhir"';
        return send(res, record, 401, outcome('login', m ? 'invalid or expired token' : 'bearer token required'), {
          'www-authenticate': challenge,
        });
      }
      grantedScope = claims.scope;
    }

    let body: unknown = undefined;
    if (raw.length > 0) {
      const ct = req.headers['content-type'] ?? '';
      if (ct.startsWith('application/x-www-form-urlencoded')) {
        body = Object.fromEntries(new URLSearchParams(raw));
      } else {
        try {
          body = JSON.parse(raw);
        } catch {
          return send(res, record, 400, outcome('structure', 'body is not JSON'));
        }
      }
    }

    // This server takes JSON Patch only (not FHIRPath Patch), declared as such, like HAPI.
    if (method === 'PATCH' && !(req.headers['content-type'] ?? '').startsWith('application/json-patch+json')) {
      return send(res, record, 415, outcome('not-supported', 'PATCH takes application/json-patch+json'));
    }

    if (opts.routes) {
      const handled = await opts.routes({ req, res, method, path: rel, url, body, repo, baseUrl });
      if (handled) {
        record.status = res.statusCode;
        return;
      }
    }

    const type = segments[0];
    if (type && !type.startsWith('$') && !isR4ResourceType(type)) {
      return send(res, record, 404, outcome('not-supported', `unknown resource type ${type}`));
    }
    if (grantedScope !== undefined && enforceScopes && type && !type.startsWith('$')) {
      const needed = requiredInteraction(method, segments, url.search.length > 1);
      if (needed && !scopePermits(grantedScope, type, needed)) {
        return send(res, record, 403, outcome('forbidden', `scope does not permit '${needed}' on ${type}`));
      }
    }

    // Search: page by default and remember paging parameters for the links.
    const isSearch =
      (method === 'GET' && segments.length === 1) || (method === 'POST' && segments.length === 2 && segments[1] === '_search');
    const query = new URLSearchParams(url.search);
    if (method === 'POST' && segments[1] === '_search' && body && typeof body === 'object') {
      for (const [k, v] of Object.entries(body as Record<string, string>)) query.append(k, v);
      body = undefined;
    }
    if (isSearch && !query.has('_count')) query.set('_count', String(defaultCount));

    const routeUrl = isSearch
      ? `${type}?${query.toString()}`
      : rel + (url.search.length > 1 ? url.search : '');
    const [result, resource] = await router.handleRequest(
      {
        // POST _search was folded into the query above, so it runs as the equivalent GET.
        method: (method === 'HEAD' || isSearch ? 'GET' : method) as HttpMethod,
        url: routeUrl,
        pathname: '',
        body,
        params: {},
        query: {},
        headers: req.headers,
      },
      repo,
    );
    const status = getStatus(result);
    if (!resource) {
      return send(res, record, status, status >= 400 || method === 'DELETE' ? result : undefined);
    }
    const headers: Record<string, string> = {};
    const meta = (resource as Resource).meta;
    if (meta?.versionId) headers.etag = `W/"${meta.versionId}"`;
    if (meta?.lastUpdated) headers['last-modified'] = new Date(meta.lastUpdated).toUTCString();
    if (isCreated(result) && resource.id) {
      headers.location = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${meta?.versionId ?? '1'}`;
    }
    if (resource.resourceType === 'Bundle' && (resource as Bundle).type === 'searchset') {
      decorateSearchset(resource as Bundle, `${baseUrl}/${type}`, query);
    }
    return send(res, record, status, resource, headers);
  }

  function decorateSearchset(bundle: Bundle, typeUrl: string, query: URLSearchParams): void {
    for (const e of bundle.entry ?? []) {
      if (e.resource?.id) e.fullUrl = `${baseUrl}/${e.resource.resourceType}/${e.resource.id}`;
      e.search = { mode: 'match' };
    }
    const count = Number(query.get('_count'));
    const offset = Number(query.get('_offset') ?? 0);
    const page = (o: number) => {
      const q = new URLSearchParams(query);
      q.set('_offset', String(o));
      return `${typeUrl}?${q.toString()}`;
    };
    bundle.link = [{ relation: 'self', url: `${typeUrl}?${query.toString()}` }];
    if (count > 0 && bundle.total !== undefined && offset + count < bundle.total) {
      bundle.link.push({ relation: 'next', url: page(offset + count) });
    }
    if (count > 0 && offset > 0) bundle.link.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
  }

  let proxyOutside: string | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (proxyOutside && basePath && path !== basePath && !path.startsWith(basePath + '/')) {
      forward(req, res, proxyOutside);
      return;
    }
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': `${FHIR_JSON}; charset=utf-8` });
        res.end(JSON.stringify(outcome('exception', String(err))));
      } else res.destroy();
    });
  };
  const listening = await listenLoopback(opts.tls, opts.port);
  listening.setHandler(listener);
  const origin = listening.origin;
  baseUrl = origin + basePath;

  return {
    baseUrl,
    origin,
    requests,
    fault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    attachAuth(auth) {
      if (auth.verifyToken) verifyToken = auth.verifyToken;
      if (auth.smartConfig) smartConfig = auth.smartConfig as Record<string, unknown>;
      if (auth.enforceScopes !== undefined) enforceScopes = auth.enforceScopes;
      if (auth.proxyOutside) proxyOutside = auth.proxyOutside;
    },
    repo,
    router,
    seedMs,
    close: () => listening.close(),
  };
}

/** Forwards a request as is (method, path, headers with the original Host, body) to `origin`. */
function forward(req: IncomingMessage, res: ServerResponse, origin: string): void {
  const target = new URL(origin);
  const out = httpRequest(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(out);
}
