// Secrets written as literals. They never reach the plan: without --allow-literal-secrets they are
// an error (HDC5001); with it (local experiments only) the plan holds an env() marker in place of
// the value, so the runtime asks for the secret from the environment at start-up.
import type { Atom, StringLit } from '../syntax/ast.ts';
import type { Reporter } from './reporter.ts';

/** Literal secrets replaced by a marker, by AST node: toValue() emits the marker for them. */
const markers = new WeakMap<object, string>();

export const literalSecretMarker = (a: Atom): string | undefined => markers.get(a);

/** Header names whose values are credentials. */
export const isSecretHeader = (name: string): boolean =>
  /^(authorization|proxy-authorization|cookie)$|api[-_]?key|token|secret|password/i.test(name);

/** Reports a literal secret; with the allowance, marks it so the plan holds `env(marker)` instead. */
export function reportLiteralSecret(r: Reporter, value: StringLit, what: string): void {
  const marker = `HDC_LITERAL_SECRET_${what.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_LINE_${value.range.start.line}`;
  if (r.options.allowLiteralSecrets) {
    markers.set(value, marker);
    r.warning('HDC5001', value.range, `"${what}" is a secret written as a literal`,
      `--allow-literal-secrets: the plan reads it from env("${marker}") instead of holding it; set that variable to run. Use env("NAME") or file("path") outside local experiments.`,
      [{ replacement: `env("${what.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}")`, range: value.range }]);
    return;
  }
  r.error('HDC5001', value.range, `"${what}" is a secret written as a literal`,
    'Secrets belong in the environment or a file, never in the source or the plan: use env("NAME") or file("path") (hdc compile --allow-literal-secrets accepts literals for local experiments, keeping them out of the plan).',
    [{ replacement: `env("${what.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}")`, range: value.range }]);
}
