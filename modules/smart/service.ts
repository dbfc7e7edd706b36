// SMART App Launch as a module: the launch routes (/smart/NAME/…) and their session table, loaded
// only for plans with `smart launch` blocks.
import type { ModuleInstance, RuntimeModule } from '../../runtime/platform/modules.ts';
import { launchSessionMigrations } from './launch-sessions.ts';
import { srcLine } from '../../runtime/platform/config/source-location.ts';
import { createSmartRoutes, type SmartOptions, type SmartRoutes } from './smart-routes.ts';

export interface SmartModuleInstance extends ModuleInstance {
  launches: SmartRoutes;
}

const smartModule: RuntimeModule<SmartOptions> = {
  name: 'smart',
  usedBy: (plan) => plan.launches.length > 0,
  migrations: launchSessionMigrations,
  async start(services, options = {}) {
    // Runtimes sharing a PostgreSQL store hand a launch to one another between its requests: each
    // must open what the others sealed, so the key cannot be a per-process random one.
    if (services.sql.dialect === 'postgres') {
      const unkeyed = services.plan.launches.filter((l) => l.sessionKey === undefined);
      if (unkeyed.length) {
        throw new Error(`${unkeyed.map((l) => `${srcLine(l.src)}: smart launch ${l.name}`).join(', ')} needs session_key env("…") (the same on every runtime) when runtimes share a PostgreSQL store`);
      }
    }
    const launches = createSmartRoutes({
      resolve: services.resolve, ...options, plan: services.plan, db: services.db, sql: services.sql, log: services.log, publicUrl: services.publicUrl,
      onOutcome: (launch, outcome) => void services.moduleEvents.emit('smart-launch', { launch, outcome }),
    });
    const instance: SmartModuleInstance = { launches, routes: (ctx) => launches.handle(ctx), stop: () => launches.close() };
    return instance;
  },
};

export default smartModule;
