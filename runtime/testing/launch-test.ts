// `hdc test` for launches: `launch NAME with { context } user { … }` runs the launch's fetches,
// map and redirect rules — the same code as a real launch after its handshake and login — with
// the launch's FHIR server answered by the test's mocks (`mock Patient returns …`, by resource
// type, path or step), then checks `expect redirect "URL" where params.x == …`, or, for a launch
// that fails, `expect error page "text" where status == 403`.
import type { Expectation, Plan, TestCase } from '../../plan/plan.types.ts';
import type { AuthProvider } from '../workflows/auth/auth-provider.ts';
import { srcLine } from '../platform/config/source-location.ts';
import { evaluate } from '../workflows/expr/evaluate.ts';
import { truthy } from '../workflows/expr/values.ts';
import { completeLaunch, type CompletedLaunch } from '../../modules/smart/complete-launch.ts';
import { LaunchError } from '../../modules/smart/launch-error.ts';
import { describeCall, MockTransport } from './mock-transport.ts';
import type { TestFailure, TestResult } from './run-tests.ts';

const stubAuth: AuthProvider = { authorization: async () => 'Bearer hdc-test-token', refresh: async () => false };

/** The FHIR base a launch test reads from: the standalone base, else the first allowed issuer. */
function fhirBaseOf(launch: Plan['launches'][number]): string {
  const candidate = typeof launch.standalone === 'string' ? launch.standalone : launch.issuers[0];
  return candidate && /^https?:\/\//.test(candidate) ? candidate : 'https://launch.hdc-test.invalid/fhir';
}

/** Runs one launch test; `plan` is the prepared test plan (values resolved or placeholders). */
export async function runLaunchTest(plan: Plan, tc: TestCase, workDir: string): Promise<TestResult> {
  const at = srcLine(tc.src);
  const base = { name: tc.name, file: at.replace(/:\d+$/, ''), at };
  const started = performance.now();
  const failures: TestFailure[] = [];
  const fail = (src: string | undefined, message: string) => failures.push({ at: srcLine(src ?? tc.src), message });
  const done = () => ({ ...base, status: failures.length ? ('failed' as const) : ('passed' as const), ms: Math.round(performance.now() - started), failures });
  const spec = tc.launch!;
  const launch = plan.launches.find((l) => l.name === spec.name);
  if (!launch) {
    fail(spec.src, `no smart launch named ${spec.name}`);
    return done();
  }
  const apiName = `launch ${launch.name}`;
  const transport = new MockTransport(tc.mocks, workDir, new Map([[apiName, { kind: 'fhir' }]]));
  const context = evaluate(spec.context, { vars: {} });
  const user = spec.user ? evaluate(spec.user, { vars: {} }) : launch.login ? {} : null;
  let result: CompletedLaunch | undefined;
  try {
    result = await completeLaunch({
      launch,
      fhirBase: fhirBaseOf(launch),
      auth: stubAuth,
      transport,
      context: context && typeof context === 'object' && !Array.isArray(context) ? (context as Record<string, unknown>) : {},
      user: user && typeof user === 'object' && !Array.isArray(user) ? (user as Record<string, unknown>) : null,
      ...(launch.sign ? { signingSecret: typeof launch.sign.secret === 'string' ? launch.sign.secret : 'hdc-test' } : {}),
      client: { sleep: async () => {}, maxRetryAfterMs: 0 },
    });
  } catch (err) {
    // A launch that ends on its error page: what `expect error page "…"` is for.
    const pages = tc.expects.filter((e) => e.kind === 'error_page');
    if (!pages.length || !(err instanceof LaunchError)) {
      fail(spec.src, (err as Error).message);
      return done();
    }
    for (const e of pages) {
      if (!err.publicText.includes(e.text ?? '')) fail(e.src, `the error page says "${err.publicText}" (${err.status}), not "${e.text}"; the launch failed with: ${err.message}`);
      else if (e.cond && !truthy(evaluate(e.cond, { vars: { status: err.status, text: err.publicText } }))) fail(e.src, `the error page (${err.status} "${err.publicText}") does not satisfy the condition`);
    }
    for (const e of tc.expects) if (e.kind === 'request' || e.kind === 'no_request') check(e, undefined, transport, fail);
    return done();
  }
  for (const e of tc.expects) check(e, result, transport, fail);
  return done();
}

function check(e: Expectation, r: CompletedLaunch | undefined, transport: MockTransport, fail: (src: string | undefined, message: string) => void): void {
  switch (e.kind) {
    case 'error_page':
      fail(e.src, `expected the launch to end on its error page; it redirected to ${r?.rule.to}`);
      return;
    case 'redirect': {
      if (!r) return;
      const url = new URL(r.url);
      const target = `${url.origin}${url.pathname}`;
      const wanted = e.text;
      if (wanted !== undefined && wanted !== r.rule.to) {
        fail(e.src, `expected a redirect to ${wanted}, got ${r.rule.to} (${r.index < 0 ? 'otherwise' : `rule ${r.index + 1}`})`);
        return;
      }
      if (e.cond && !truthy(evaluate(e.cond, { vars: { params: r.params, url: r.url, target, data: r.data } }))) {
        fail(e.src, `the redirect's parameters do not satisfy the condition: ${JSON.stringify(r.params).slice(0, 300)}`);
      }
      return;
    }
    case 'request':
    case 'no_request': {
      const norm = (p: string) => '/' + p.replace(/^\/+/, '').replace(/\/+$/, '');
      const matching = transport.calls.filter((c) => (!e.method || c.method === e.method) && (!e.urlPath || c.path === norm(e.urlPath)));
      const satisfying = matching.filter((c) => (e.cond ? truthy(evaluate(e.cond, { vars: { request: c, ...c } })) : true));
      if (e.kind === 'request' && !satisfying.length) {
        const made = (matching.length ? matching : transport.calls).map(describeCall);
        fail(e.src, `${matching.length ? `${matching.length} request(s) matched, none where the condition holds; they were` : 'no such request; requests made'}:${made.length ? made.map((m) => `\n${m}`).join('') : ' none'}`);
      }
      if (e.kind === 'no_request' && satisfying.length) fail(e.src, `expected no such request, got ${satisfying.length}`);
      return;
    }
    default:
      fail(e.src, `expect ${e.kind} does not apply to a launch test`);
  }
}
