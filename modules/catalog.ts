// Every add-on the runtime can load, by name. A module's service is imported (with its
// dependencies) only when a plan uses it; `usedBy` is decided by the service itself.
import type { RuntimeModule } from '../runtime/platform/modules.ts';

export interface ModuleEntry {
  name: string;
  load(): Promise<{ default: RuntimeModule }>;
}

export const moduleCatalog: readonly ModuleEntry[] = [
  { name: 'smart', load: () => import('./smart/service.ts') as Promise<{ default: RuntimeModule }> },
  { name: 'monitoring', load: () => import('./monitoring/service.ts') as Promise<{ default: RuntimeModule }> },
  { name: 'bulk', load: () => import('./bulk/service.ts') as Promise<{ default: RuntimeModule }> },
];
