// A self-signed certificate for 127.0.0.1/localhost, for peers served over HTTPS in tests
// (clients must trust it explicitly; the test browser ignores certificate errors).
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { TlsKeyPair } from './listen.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

let cached: Promise<TlsKeyPair & { certPem: string }> | undefined;

/** ECDSA P-256 certificate valid for a day; cached per process. `cert` doubles as the CA to trust. */
export function selfSignedCert(): Promise<TlsKeyPair & { certPem: string }> {
  cached ??= (async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
      name: 'CN=127.0.0.1',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 24 * 3600_000),
      keys: keys as CryptoKeyPair,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
    const certPem = cert.toString('pem');
    return { key, cert: certPem, certPem };
  })();
  return cached;
}
