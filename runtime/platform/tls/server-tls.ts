// Loads the listener's TLS material. Client certificates are requested but not required at the
// handshake: senders using Basic auth connect without one, and the per-sender identity check
// decides (an unverified certificate never counts).
import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

export interface TlsFiles {
  cert?: string;
  key?: string;
  clientCa?: string;
}

export class TlsConfigError extends Error {}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`cannot read the ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

export function loadServerTls(files: TlsFiles): TlsOptions & SecureContextOptions {
  if (!files.cert || !files.key) {
    throw new TlsConfigError(
      'no server certificate: pass --cert and --key (or run `hdc dev-certs` for local development), ' +
        'or --insecure-http on a loopback address',
    );
  }
  return {
    cert: read(files.cert, 'server certificate'),
    key: read(files.key, 'server private key'),
    ...(files.clientCa ? { ca: read(files.clientCa, 'client CA bundle') } : {}),
    requestCert: Boolean(files.clientCa),
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}
