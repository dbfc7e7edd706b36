// Checks on senders and their parts that need no lowering.
import type { CheckRegistry } from './registry.ts';
import { builtinsIn } from '../../specs/enumerations.ts';

const fieldBuiltins: readonly string[] = builtinsIn.workflow;

export const senderChecks: CheckRegistry = {
  sender: [
    // Field names are the workflow's variables: one each, and none a built-in's.
    (d, { r }) => {
      const seen = new Set<string>();
      for (const f of d.fields) {
        if (seen.has(f.name.name)) r.error('HDC2002', f.name.range, `field "${f.name.name}" is mapped twice`, 'Rename one of them.');
        if (fieldBuiltins.includes(f.name.name)) r.error('HDC2002', f.name.range, `"${f.name.name}" is a built-in name`, 'Choose another field name.');
        seen.add(f.name.name);
      }
    },
  ],
  match: [
    (m, { r }) => {
      if (m.path.path.segment === 'MSH') return;
      r.error('HDC2049', m.path.range, 'match reads the MSH segment only', 'Senders are recognised by header fields such as MSH-3, MSH-4, MSH-11, MSH-12.');
    },
  ],
};
