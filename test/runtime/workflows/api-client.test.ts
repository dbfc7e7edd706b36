// The HTTP layer against a real loopback server: retries and backoff, Retry-After, timeouts,
// which methods may be repeated, 401 → one fresh credential, URL confinement, error wording.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthProvider } from '../../../runtime/workflows/auth/auth-provider.ts';
import { ApiClient, type ResolvedApi } from '../../../runtime/workflows/http/api-client.ts';
import { encodePathSegment } from '../../../runtime/workflows/http/api-url.ts';
import { GotTransport } from '../../../runtime/workflows/http/got-transport.ts';
import { parseRetryAfter } from '../../../runtime/workflows/http/retry-policy.ts';
import type { ApiRequest } from '../../../runtime/workflows/http/types.ts';
import { WorkflowError } from '../../../runtime/workflows/workflow-error.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handler: Handler = (_q, res) => res.end('{}');
const seen: Array<{ method: string; url: string; auth?: string; body: string }> = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
    handler(req, res, body);
  });
});
let base = '';
const transport = new GotTransport();
const sleeps: number[] = [];

function client(overrides: Partial<ResolvedApi> = {}, auth?: AuthProvider) {
  return new ApiClient(
    { name: 'ehr', kind: 'rest', baseUrl: `${base}/api/v1`, headers: { 'x-api': 'yes' }, timeoutMs: 2000, retry: { attempts: 3, backoffMs: 10 }, ...overrides },
    transport,
    auth,
    { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
  );
}
const get = (path: string, extra: Partial<ApiRequest> = {}): ApiRequest => ({
  method: 'GET', path, idempotent: true, responseType: 'json', label: 'GET ehr /things', src: 'flows/labs.hdc:14:3-14:40', ...extra,
});
async function failure(p: Promise<unknown>): Promise<WorkflowError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, WorkflowError);
    return err as WorkflowError;
  }
  throw new Error('expected a failure');
}

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  transport.close();
  await new Promise((r) => server.close(r));
});
test.before.each(() => {
  seen.length = 0;
  sleeps.length = 0;
});

test('requests go under the base with the API headers and a parsed JSON body', async () => {
  handler = (req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ x: req.headers['x-api'] }));
  const res = await client().request(get('/things/a%20b', { query: [['q', 'a&b'], ['q', 'c']] }));
  assert.equal(res.body, { x: 'yes' });
  assert.is(res.status, 200);
  assert.is(seen[0].url, '/api/v1/things/a%20b?q=a%26b&q=c');
});

test('503 then 200: retried after a backoff', async () => {
  let n = 0;
  handler = (_q, res) => (n++ === 0 ? res.writeHead(503).end() : res.end('{"ok":true}'));
  const res = await client().request(get('things'));
  assert.equal(res.body, { ok: true });
  assert.is(seen.length, 2);
  assert.equal(sleeps, [10]);
});

test('429 with Retry-After seconds and HTTP-date is honoured', async () => {
  let n = 0;
  handler = (_q, res) => (n++ === 0 ? res.writeHead(429, { 'retry-after': '2' }).end() : res.end('1'));
  await client().request(get('things'));
  assert.equal(sleeps, [2000]);
  const at = new Date(Date.now() + 5000).toUTCString();
  const ms = parseRetryAfter(at)!;
  assert.ok(ms > 3000 && ms <= 5000, String(ms));
  assert.is(parseRetryAfter('soon'), undefined);
});

test('a Retry-After beyond the in-line limit is left to the run-level retry', async () => {
  handler = (_q, res) => res.writeHead(429, { 'retry-after': '600' }).end();
  const err = await failure(client().request(get('things')));
  assert.ok(err.transient);
  assert.is(err.retryAfterMs, 600_000);
  assert.is(seen.length, 1);
});

test('exhausted retries: transient error naming the .hdc line, the request and the status', async () => {
  handler = (_q, res) => res.writeHead(502, 'Bad Gateway').end();
  const err = await failure(client().request(get('things')));
  assert.is(err.message, 'flows/labs.hdc:14: GET ehr /things failed: 502 Bad Gateway after 3 attempts');
  assert.ok(err.transient);
  assert.is(seen.length, 3);
  assert.equal(sleeps, [10, 20]);
});

test('404 is permanent and not retried', async () => {
  handler = (_q, res) => res.writeHead(404, 'Not Found').end('{"resourceType":"OperationOutcome"}');
  const err = await failure(client().request(get('things/x')));
  assert.is(err.message, 'flows/labs.hdc:14: GET ehr /things failed: 404 Not Found');
  assert.not.ok(err.transient);
  assert.is(err.status, 404);
  assert.is(seen.length, 1);
});

test('a timeout on a GET is retried; on a POST it is not (it may have been processed)', async () => {
  handler = () => {}; // never answers
  const c = client({ timeoutMs: 150, retry: { attempts: 2, backoffMs: 1 } });
  const err = await failure(c.request(get('slow')));
  assert.ok(err.transient);
  assert.match(err.message, /timed out after 150 ms/);
  assert.is(seen.length, 2);
  seen.length = 0;
  const post = await failure(c.request(get('slow', { method: 'POST', idempotent: false, body: '{}' })));
  assert.not.ok(post.transient);
  assert.match(post.message, /not retried, the POST may have been processed/);
  assert.is(seen.length, 1);
});

test('a POST answered 500 or a bare 503 is not repeated; 503 with Retry-After and 429 (refused) are', async () => {
  handler = (_q, res) => res.writeHead(500).end();
  const post = get('admissions', { method: 'POST', idempotent: false, body: '{"a":1}' });
  const err = await failure(client().request(post));
  assert.not.ok(err.transient);
  assert.is(seen.length, 1);
  seen.length = 0;
  let n = 0;
  handler = (_q, res) => res.writeHead(503).end();
  const bare = await failure(client().request(post));
  assert.not.ok(bare.transient, 'a 503 without Retry-After may have been processed');
  assert.match(bare.message, /503 Service Unavailable; not retried, the POST may have been processed/);
  assert.is(seen.length, 1);
  seen.length = 0;
  handler = (_q, res) => (n++ === 0 ? res.writeHead(503, { 'retry-after': '0' }).end() : res.writeHead(201).end('{"id":1}'));
  const res = await client().request(post);
  assert.is(res.status, 201);
  assert.is(seen.length, 2);
  assert.is(seen[1].body, '{"a":1}');
  seen.length = 0;
  n = 0;
  handler = (_q, res) => (n++ === 0 ? res.writeHead(429).end() : res.writeHead(201).end('{"id":2}'));
  assert.is((await client().request(post)).status, 201);
  assert.is(seen.length, 2);
});

test('a refused connection is retried even for a POST (it never reached a server)', async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  const c = new ApiClient(
    { name: 'gone', kind: 'rest', baseUrl: `http://127.0.0.1:${port}`, headers: {}, timeoutMs: 500, retry: { attempts: 3, backoffMs: 1 } },
    transport,
    undefined,
    { sleep: async (ms) => void sleeps.push(ms) },
  );
  const err = await failure(c.request(get('x', { method: 'POST', idempotent: false })));
  assert.ok(err.transient);
  assert.match(err.message, /ECONNREFUSED after 3 attempts/);
  assert.is(sleeps.length, 2);
});

test('401 → one fresh credential and one retry; a second 401 fails permanently', async () => {
  let issued = 0;
  let current = 'Bearer t0';
  const auth: AuthProvider = {
    authorization: async () => current,
    refresh: async (refused) => {
      assert.is(refused, current);
      current = `Bearer t${++issued}`;
      return true;
    },
  };
  handler = (req, res) => (req.headers.authorization === 'Bearer t1' ? res.end('"ok"') : res.writeHead(401).end());
  const res = await client({}, auth).request(get('things'));
  assert.is(res.body, 'ok');
  assert.equal(seen.map((s) => s.auth), ['Bearer t0', 'Bearer t1']);
  seen.length = 0;
  handler = (_q, res) => res.writeHead(401, 'Unauthorized').end();
  const err = await failure(client({}, auth).request(get('things')));
  assert.not.ok(err.transient);
  assert.is(seen.length, 2);
  assert.not.match(err.message, /Bearer|t2/);
});

test('URLs never leave the API base', async () => {
  const c = client();
  for (const path of ['../admin', '/../../x', 'http://evil.example/x', `${base}/other/x`, '%2e%2e/%2e%2e/x', '//evil.example/x']) {
    let url: string | undefined;
    try {
      url = c.base.resolve(path).url.href;
    } catch (err) {
      assert.match((err as Error).message, /leaves the API base/);
      continue;
    }
    assert.ok(url.startsWith(`${base}/api/v1/`), `${path} → ${url}`);
  }
  assert.is(c.base.resolve(`${base}/api/v1/Patient?page=2`).url.href, `${base}/api/v1/Patient?page=2`);
  assert.throws(() => encodePathSegment('..'), /path value is "\.\."/);
  assert.is(encodePathSegment('a/b?c#d'), 'a%2Fb%3Fc%23d');
  assert.is(seen.length, 0);
});

test('text APIs return the body as text; broken JSON is a permanent error', async () => {
  handler = (_q, res) => res.end('plain words');
  assert.is((await client().request(get('t', { responseType: 'text' }))).body, 'plain words');
  const err = await failure(client().request(get('t')));
  assert.match(err.message, /is not JSON/);
  assert.not.ok(err.transient);
});

test.run();
