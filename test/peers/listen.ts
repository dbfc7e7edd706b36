// Starts a node:http(s) server on 127.0.0.1 with an ephemeral port.
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsKeyPair {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface Listening {
  server: Server;
  /** e.g. `http://127.0.0.1:40123` */
  origin: string;
  port: number;
  /** Replaces the request handler (until set, requests get 503). */
  setHandler(h: RequestListener): void;
  close(): Promise<void>;
}

/**
 * The handler can be set after listening (`setHandler`) because OAuth servers need their own
 * origin (the issuer) before they can be constructed.
 */
export async function listenLoopback(tls?: TlsKeyPair, port = 0): Promise<Listening> {
  let handler: RequestListener = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const listener: RequestListener = (req, res) => handler(req, res);
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${bound}`,
    setHandler(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
