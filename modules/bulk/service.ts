// The Bulk FHIR module's runtime service. The runtime imports this file for every plan to ask
// `usedBy`; the exporter and its HTTP client load only in `start`.
import type { RuntimeModule } from '../../runtime/platform/modules.ts';
import { bulkBlocks } from './bulk-plan.ts';
import { migrations } from './bulk-schema.ts';
import type { BulkInstance, BulkOptions } from './start-bulk.ts';

export type { BulkInstance, BulkOptions } from './start-bulk.ts';

const bulk: RuntimeModule<BulkOptions> & { start(...args: Parameters<RuntimeModule<BulkOptions>['start']>): Promise<BulkInstance> } = {
  name: 'bulk',
  usedBy: (plan) => Object.keys(bulkBlocks(plan)).length > 0,
  migrations,
  async start(services, options) {
    const { startBulk } = await import('./start-bulk.ts');
    return startBulk(services, options);
  },
};

export default bulk;
