// HL7 paths in transform bodies, checked against the HL7 dictionary of the transform's version:
// `transform NAME(…) -> Patient version "2.5.1" { … }`, inherited by an override, and v2.8 (checked
// against the bundled 2.7.1, so findings are warnings) when none is declared — the version the
// std library is written for.
import type * as A from '../syntax/ast.ts';
import type { Hl7Path } from '../../plan/plan.types.ts';
import type { Reporter } from './reporter.ts';
import type { SymbolTable } from './symbols.ts';
import { checkHl7Path, resolveHl7Version, unknownHl7VersionMessage } from '../dictionaries/hl7.ts';
import { isStdFile } from '../std-library.ts';

export const DEFAULT_TRANSFORM_HL7_VERSION = '2.8';

/** A path node is checked once, though an override lowers its base's body again. */
const checked = new WeakSet<object>();

/** The declared version of a transform (its own, else the one of the transform it extends). */
export function transformHl7Version(d: A.TransformDecl, symbols: SymbolTable, r: Reporter): string {
  const seen = new Set<A.TransformDecl>();
  let cur: A.TransformDecl | undefined = d;
  while (cur && !seen.has(cur)) {
    seen.add(cur);
    if (cur.version) {
      if (resolveHl7Version(cur.version.value)) return cur.version.value;
      if (cur === d) r.error('HDC8014', cur.version.range, unknownHl7VersionMessage(cur.version.value), 'Declare the version the transform reads, e.g. version "2.5.1".');
      return DEFAULT_TRANSFORM_HL7_VERSION;
    }
    cur = cur.extends ? symbols.transforms.get(cur.extends.name)?.ast : undefined;
  }
  return DEFAULT_TRANSFORM_HL7_VERSION;
}

/**
 * Reports what the dictionary of `version` says about `path` (read at `node`). `viaVariable`: read
 * through a parameter or loop variable whose segment was checked where it was declared.
 */
export function checkTransformHl7Path(version: string, path: Hl7Path, node: object, range: A.Range, r: Reporter, file: string, viaVariable = false, quickFix = !viaVariable): void {
  if (checked.has(node)) return;
  checked.add(node);
  const c = checkHl7Path(version, path);
  if (c.ok || c.part === 'version' || (viaVariable && c.part === 'segment')) return;
  // The library reads some v2.8 fields the bundled 2.7.1 lacks, and repetitions senders send
  // although the standard has none: on purpose, so those warnings are not its users' business.
  if (c.warning && isStdFile(file)) return;
  const code = c.part === 'segment' ? 'HDC8011' : c.part === 'field' ? 'HDC8012' : 'HDC8013';
  const detail = c.suggestions.length ? `Did you mean ${c.suggestions.join(', or ')}?` : `Check the path against HL7 v${version}.`;
  // Quick fixes for a path as written (PID-99 → PID-9, keeping what follows the corrected part);
  // a read through a variable (obx.5) or a quoted segment ID (children) is not one, so gets none.
  const written = path.text;
  const rest = c.part === 'field' ? written.replace(/^[A-Z0-9]{3}(\[[^\]]*\])?-\d+/, '') : c.part === 'segment' ? written.slice(3) : '';
  const suggestions = !quickFix ? [] : c.replacements.map((text) => ({ replacement: text + rest, range }));
  r.report(c.warning ? 'warning' : 'error', code, range, c.message.replace(/; did you mean .*$/, ''), detail, suggestions);
}
