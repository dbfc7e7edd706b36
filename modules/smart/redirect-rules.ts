// The final redirect of a launch: the first rule whose `when` holds, else `otherwise`. The target
// is always one of the plan's literal https URLs (the compiler checked them; this re-checks, so a
// hand-edited plan cannot open a redirect either); `with { … }` values become query parameters.
import type { Expr, Launch, RedirectRule } from '../../plan/plan.types.ts';
import { truthy } from '../../runtime/workflows/expr/values.ts';
import { toText } from '../../runtime/workflows/request-values.ts';
import { EXPIRY_PARAM, SIGNATURE_PARAM, signPairs } from './signed-params.ts';
import { LaunchError } from './launch-error.ts';
import { isLoopbackHost } from './smart-servers.ts';

export interface RedirectChoice {
  rule: RedirectRule;
  /** Index of the rule taken; -1 for otherwise. */
  index: number;
  url: string;
  params: Record<string, string | string[]>;
}

export interface RedirectOptions {
  evaluate: (expr: Expr) => unknown;
  /** Resolved signing secret when the launch signs. */
  signingSecret?: string;
  now?: number;
}

export function chooseRedirect(launch: Launch, opts: RedirectOptions): RedirectChoice {
  const rules = launch.redirect.rules;
  let index = rules.findIndex((r) => r.when === undefined || truthy(opts.evaluate(r.when)));
  const rule = index >= 0 ? rules[index]! : launch.redirect.otherwise;
  if (index < 0) index = -1;
  let target: URL;
  try {
    target = new URL(rule.to);
  } catch {
    throw new LaunchError('redirect target is not a URL', { status: 500, src: rule.src });
  }
  // https; http only to a loopback address (development, warned by the compiler as HDC5013).
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && isLoopbackHost(target.hostname))) {
    throw new LaunchError('redirect target is not https', { status: 500, src: rule.src });
  }

  const pairs = queryPairs(rule.with ? opts.evaluate(rule.with) : null, rule.src);
  const signed = launch.sign && opts.signingSecret !== undefined
    ? signPairs(target, pairs, opts.signingSecret, launch.sign.ttlSeconds, opts.now)
    : pairs;
  for (const [k, v] of signed) target.searchParams.append(k, v);
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of signed) {
    const had = params[k];
    params[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return { rule, index, url: target.href, params };
}

/** `with` values: text as is, numbers and booleans as text, null dropped, lists repeat the key. */
function queryPairs(value: unknown, src: string): Array<[string, string]> {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw new LaunchError('redirect `with` is not an object', { status: 500, src });
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === EXPIRY_PARAM || k === SIGNATURE_PARAM) throw new LaunchError(`redirect parameter ${k} is reserved for signing`, { status: 500, src });
    for (const item of Array.isArray(v) ? v : [v]) {
      const text = toText(item);
      if (text !== null) out.push([k, text]);
    }
  }
  return out;
}
