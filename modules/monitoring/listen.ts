// Opens one of the module's own listeners (metrics, dashboard) on HOST:PORT from the plan.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { srcLine } from '../../runtime/platform/config/source-location.ts';
import { parseListen } from './monitoring-plan.ts';

export async function listenOn(server: Server, listen: string, src: string, what: string): Promise<string> {
  const { host, port } = parseListen(listen, srcLine(src));
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? `${listen} is already in use` : err.code === 'EACCES' ? `not allowed to listen on ${listen}` : err.message;
      reject(new Error(`${srcLine(src)}: ${what} cannot listen: ${why}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
