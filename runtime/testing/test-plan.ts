// The plan as `hdc test` runs it. Deployment values are resolved when they can be and replaced by
// harmless placeholders when not (no secrets are needed: HTTP is mocked, auth is stubbed). Each
// sender gets its own path and no transport identity, so a test's `send … to SENDER` reaches
// exactly that sender through the real listener; MSH matching, accepted types, mapping and ACKs
// stay as written. FHIR request bodies are validated unless the API says `validate none`.
import type { Plan, Value } from '../../plan/plan.types.ts';
import { isEnvRef, isFileRef, resolveValue } from '../platform/config/resolve-values.ts';

export const TEST_SENDER_PREFIX = '/__hdc-test/';

export function testSenderPath(sender: string): string {
  return TEST_SENDER_PREFIX + encodeURIComponent(sender);
}

export function prepareTestPlan(plan: Plan, workDir: string): Plan {
  const tryResolve = (v: Value, fallback: string): string => {
    try {
      return resolveValue(v, { env: process.env, workDir });
    } catch {
      return fallback;
    }
  };
  const walk = (node: unknown, fallback: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, fallback));
    if (isEnvRef(node) || isFileRef(node)) return tryResolve(node as Value, fallback);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, fallback)]));
  };
  const { tests, ...rest } = plan;
  const resolved = walk(rest, 'hdc-test') as Omit<Plan, 'tests'>;
  return {
    ...resolved,
    tests,
    apis: resolved.apis.map((a, i) => {
      const base = plan.apis[i]!.baseUrl;
      const url = typeof base === 'string' ? base : tryResolve(base, '');
      return {
        ...a,
        baseUrl: /^https?:\/\//.test(url) ? url : `https://${a.name}.hdc-test.invalid/`,
        ...(a.kind === 'fhir' ? { validate: a.validate ?? ('fhir' as const) } : {}),
      };
    }),
    senders: resolved.senders.map((s) => ({ ...s, path: testSenderPath(s.name), identity: { kind: 'none' as const } })),
  };
}
