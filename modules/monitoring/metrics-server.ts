// The `metrics` listener: GET /metrics answers the Prometheus text format; nothing else is served.
import { createServer, type Server } from 'node:http';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import type { Metrics } from './metrics.ts';
import type { MetricsPlan } from './monitoring-plan.ts';
import { closeServer, listenOn } from './listen.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(plan: MetricsPlan, metrics: Metrics, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      (err: Error) => {
        log.error({ err: err.message }, 'metrics: collecting failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('collecting the metrics failed\n');
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  const url = await listenOn(server, plan.listen, plan.src, 'metrics');
  log.info({ url: `${url}/metrics` }, 'metrics: listening');
  return { url, close: () => closeServer(server) };
}
