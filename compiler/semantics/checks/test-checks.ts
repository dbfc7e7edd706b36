// Checks on test statements that need no lowering.
import type { CheckRegistry } from './registry.ts';
import { ackCodes } from '../../specs/enumerations.ts';

export const testChecks: CheckRegistry = {
  expect: [
    (st, { r }) => {
      if (st.what !== 'ack' || !st.code || st.code.name in ackCodes) return;
      r.error('HDC2055', st.code.range, `unknown ACK code ${st.code.name}`, `Use ${Object.keys(ackCodes).join(', ').replace(/, (\w+)$/, ' or $1')}.`);
    },
  ],
};
