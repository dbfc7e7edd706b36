// Checks on workflow declarations.
import type { CheckRegistry } from './registry.ts';

export const workflowChecks: CheckRegistry = {
  workflow: [
    (d, { r, names }) => {
      if (names.routedBy(d.name.name).length || names.moduleInputs(d.name.name)) return;
      r.warning('HDC2008', d.name.range, `workflow "${d.name.name}" is never run`, 'No sender routes a message type to it: add `on TYPE run ' + d.name.name + '` to a sender, or remove it.');
    },
  ],
};
