// Checks of a `smart launch` block that need no symbols: the redirect parameters the signing
// scheme reserves (a `with { hdc_sig: … }` would fail every launch at run time), and where
// `optional` fetches may be written.
import type * as A from '../syntax/ast.ts';
import type * as P from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';

const RESERVED = new Set(['hdc_sig', 'hdc_exp']);

export function checkLaunchDecl(d: A.LaunchDecl, r: Reporter): void {
  const rules = [...(d.redirect?.rules ?? []), ...(d.redirect?.otherwise ? [d.redirect.otherwise] : [])];
  for (const rule of rules) {
    for (const e of rule.with?.entries ?? []) {
      if (!RESERVED.has(e.key)) continue;
      r.error('HDC5010', e.keyRange, `redirect parameter "${e.key}" is reserved for signed parameters`,
        'hdc_exp and hdc_sig are added by `sign` (expiry and signature); choose another name, e.g. ' + `"${e.key.slice(4)}".`,
        [{ replacement: e.key.replace(/^hdc_/, ''), range: e.keyRange }]);
    }
  }
}

/** `read … optional` / `search … optional`: only in a launch's fetch block (workflows retry and dead-letter instead). */
export function optionalFetch(range: A.Range, step: P.Step, inLaunch: boolean, r: Reporter): void {
  if (!inLaunch) {
    r.error('HDC5012', range, '`optional` is for launch fetches', 'A workflow step that may find nothing tests its result (if x.total == 0 …); remove `optional`.');
    return;
  }
  if (step.interaction !== 'read' && step.interaction !== 'search') {
    r.error('HDC5012', range, '`optional` applies to read and search', 'Remove `optional`.');
    return;
  }
  step.optional = true;
}

/**
 * `http://127.0.0.1…`, `http://localhost…` or `http://[::1]…` as a redirect target: allowed for
 * development (a form served on the developer's machine), with a warning; true when it is one.
 */
export function loopbackHttpTarget(url: URL, to: A.StringLit, r: Reporter): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'http:' || !(host === 'localhost' || host === '::1' || /^127\./.test(host))) return false;
  r.warning('HDC5013', to.range, `redirect target ${to.raw} uses http on loopback`,
    'Allowed for development only: the browser sends the signed parameters unencrypted. Use https in production.',
    [{ replacement: JSON.stringify(to.value.replace(/^http:/, 'https:')), range: to.range }]);
  return true;
}
