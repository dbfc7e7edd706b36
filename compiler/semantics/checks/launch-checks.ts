// Checks on SMART launches that need no lowering: where the browser may be sent.
import type * as A from '../../syntax/ast.ts';
import type { Reporter } from '../reporter.ts';
import type { CheckRegistry } from './registry.ts';
import { closest } from '../../dictionaries/closest.ts';

export const launchChecks: CheckRegistry = {
  launch: [
    // Redirect targets: literal https URLs, and when `targets` is declared, members of it.
    (d, { r }) => {
      if (!('settings' in d)) return; // a test's `launch NAME with …`
      const setting = d.settings.find((x) => x.key.name === 'targets' && x.values.length > 0 && x.values.every((v) => v.kind === 'string'));
      const declared = (setting?.values ?? []) as A.StringLit[];
      for (const a of declared) targetCheck(a, r, undefined);
      const targets = declared.map((a) => a.value);
      for (const rule of [...(d.redirect?.rules ?? []), ...(d.redirect?.otherwise ? [d.redirect.otherwise] : [])]) {
        targetCheck(rule.to, r, targets.length ? targets : undefined);
      }
    },
  ],
};

function targetCheck(to: A.StringLit, r: Reporter, declared: string[] | undefined): void {
  let url: URL | undefined;
  try { url = new URL(to.value); } catch { /* reported below */ }
  if (!url || url.protocol !== 'https:') {
    r.error('HDC5002', to.range, `redirect target ${to.raw} is not an absolute https URL`,
      'The browser may only be sent to absolute https:// URLs declared in the source (no open redirects).',
      url?.protocol === 'http:' ? [{ replacement: JSON.stringify(to.value.replace(/^http:/, 'https:')), range: to.range }] : []);
    return;
  }
  if (declared && !declared.includes(to.value)) {
    const near = closest(to.value, declared, 1);
    r.error('HDC5003', to.range, `redirect target ${to.raw} is not in the declared targets`,
      `Add it to \`targets\`, or use one of: ${declared.join(', ')}.`, near.map((n) => ({ replacement: JSON.stringify(n), range: to.range })));
  }
}
