// SMART App Launch as a module: the launch routes (/smart/NAME/…) and their session table, loaded
// only for plans with `smart launch` blocks.
import type { ModuleInstance, RuntimeModule } from '../../runtime/platform/modules.ts';
import { launchSessionMigrations } from './launch-sessions.ts';
import { createSmartRoutes, type SmartOptions, type SmartRoutes } from './smart-routes.ts';

export interface SmartModuleInstance extends ModuleInstance {
  launches: SmartRoutes;
}

const smartModule: RuntimeModule<SmartOptions> = {
  name: 'smart',
  usedBy: (plan) => plan.launches.length > 0,
  migrations: launchSessionMigrations,
  async start(services, options = {}) {
    const launches = createSmartRoutes({
      resolve: services.resolve, ...options, plan: services.plan, db: services.db, log: services.log, publicUrl: services.publicUrl,
      onOutcome: (launch, outcome) => void services.moduleEvents.emit('smart-launch', { launch, outcome }),
    });
    const instance: SmartModuleInstance = { launches, routes: (ctx) => launches.handle(ctx), stop: () => launches.close() };
    return instance;
  },
};

export default smartModule;
