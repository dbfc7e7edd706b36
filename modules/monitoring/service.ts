// The monitoring module's runtime service (dashboard, Prometheus metrics, OpenTelemetry traces).
// The runtime imports this file for every plan to ask `usedBy`; the module's code and its
// dependencies (prom-client, the dashboard, the OpenTelemetry SDK) load only in `start`.
import type { RuntimeModule } from './seam.ts';
import { monitoringPlan } from './monitoring-plan.ts';
import { migrations } from './monitoring-schema.ts';
import type { MonitoringInstance, MonitoringOptions } from './start-monitoring.ts';

export type { MonitoringInstance, MonitoringOptions } from './start-monitoring.ts';

const monitoring: RuntimeModule<MonitoringOptions> & { start(...args: Parameters<RuntimeModule<MonitoringOptions>['start']>): Promise<MonitoringInstance> } = {
  name: 'monitoring',
  usedBy: (plan) => {
    const m = monitoringPlan(plan);
    return Boolean(m?.dashboard || m?.metrics || m?.tracing);
  },
  migrations,
  async start(services, options) {
    const { startMonitoring } = await import('./start-monitoring.ts');
    return startMonitoring(services, options);
  },
};

export default monitoring;
