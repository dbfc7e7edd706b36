// Builds one ApiClient per declared API: resolved base URL and headers, the shared auth provider,
// and a transport (got with keep-alive agents in production; fixtures under `hdc test`).
import type { Plan } from '../../plan/plan.types.ts';
import type { AuthProvider } from './auth/auth-provider.ts';
import { createAuths } from './auth/create-auth.ts';
import { ApiClient, type ApiClientOptions, type ResolvedApi } from './http/api-client.ts';
import { GotTransport } from './http/got-transport.ts';
import type { Transport } from './http/types.ts';
import type { ValueResolver } from './resolve-value.ts';

export interface ApiRegistryOptions {
  resolve: ValueResolver;
  /** One transport for every API (tests), or a factory; default: got per API. */
  transport?: Transport | ((api: ResolvedApi, tls: { ca?: string; cert?: string; key?: string }) => Transport);
  /** Replaces the plan's auth providers by name (tests). */
  auths?: Map<string, AuthProvider>;
  client?: ApiClientOptions;
}

export interface ApiRegistry {
  clients: Map<string, ApiClient>;
  auths: Map<string, AuthProvider>;
  close(): void;
}

export function createApiRegistry(plan: Pick<Plan, 'apis' | 'auths'>, opts: ApiRegistryOptions): ApiRegistry {
  const auths = opts.auths ?? createAuths(plan, opts.resolve);
  const transports: Transport[] = [];
  const clients = new Map<string, ApiClient>();
  for (const api of plan.apis) {
    const resolved: ResolvedApi = {
      name: api.name,
      kind: api.kind,
      baseUrl: opts.resolve(api.baseUrl),
      format: api.format,
      ...(api.validate ? { validate: api.validate } : {}),
      headers: Object.fromEntries((api.headers ?? []).map((h) => [h.name.toLowerCase(), opts.resolve(h.value)])),
      timeoutMs: api.timeoutMs,
      // One request per run attempt: retries happen at the run's level, by the API's policy
      // (engine.ts), so each attempt is recorded and no worker sleeps through a backoff.
      retry: { attempts: 1, backoffMs: 0 },
      src: api.src,
    };
    const tls = {
      ca: api.tls?.ca !== undefined ? opts.resolve(api.tls.ca) : undefined,
      cert: api.tls?.cert !== undefined ? opts.resolve(api.tls.cert) : undefined,
      key: api.tls?.key !== undefined ? opts.resolve(api.tls.key) : undefined,
    };
    let transport: Transport;
    if (typeof opts.transport === 'function') transport = opts.transport(resolved, tls);
    else if (opts.transport) transport = opts.transport;
    else {
      transport = new GotTransport(tls);
      transports.push(transport);
    }
    const auth = api.auth ? auths.get(api.auth) : undefined;
    if (api.auth && !auth) throw new Error(`API ${api.name} names an undeclared auth ${api.auth}`);
    clients.set(api.name, new ApiClient(resolved, transport, auth, opts.client));
  }
  return { clients, auths, close: () => transports.forEach((t) => t.close?.()) };
}
