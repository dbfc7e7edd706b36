// Checks of a `smart launch` block that need no symbols: the redirect parameters the signing
// scheme reserves (a `with { hdc_sig: … }` would fail every launch at run time).
import type * as A from '../syntax/ast.ts';
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
