// Checks on workflow (and launch fetch) statements that need no types.
import type { CheckRegistry } from './registry.ts';
import { collectionNamePattern, rejectCodes } from '../../specs/enumerations.ts';

export const statementChecks: CheckRegistry = {
  store: [
    (st, { r }) => {
      if (collectionNamePattern.test(st.collection.value)) return;
      r.error('HDC2054', st.collection.range, 'collection names use letters, digits, _ . and -', 'Rename the collection.');
    },
  ],
  reject: [
    (st, { r }) => {
      if ((rejectCodes as readonly string[]).includes(st.code.name)) return;
      r.error('HDC2055', st.code.range, `reject takes AE or AR, not ${st.code.name}`, 'AE: an error in the content; AR: rejected for a reason unrelated to content.',
        [{ replacement: 'AE', range: st.code.range }]);
    },
  ],
};
