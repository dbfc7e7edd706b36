// Writes a development PKI into a folder: a local CA (reused when already there, so partners can
// be added later), a server certificate for localhost/127.0.0.1/::1 and one client certificate
// per partner (CN=<partner>). Never for production: the CA key sits next to the certificates.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate as NodeX509, createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from './certificate-authority.ts';

export interface WrittenFile {
  path: string;
  what: string;
  fingerprint256?: string;
  reused?: boolean;
}

export interface DevCertsOptions {
  dir: string;
  partners: string[];
  /** Re-issue the server and partner certificates that already exist. */
  force?: boolean;
}

async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']);
  const publicKey = await certificate.publicKey.export(alg, ['verify'], webcrypto as unknown as Crypto);
  return {
    cert: certPem,
    key: keyPem,
    fingerprint256: new NodeX509(certPem).fingerprint256,
    subject: certificate.subject,
    keys: { privateKey: privateKey as unknown as CryptoKey, publicKey },
    certificate,
  };
}

export function partnerFileName(partner: string): string {
  return partner.replace(/[^A-Za-z0-9._-]/g, '_');
}

export async function writeDevCerts(opts: DevCertsOptions): Promise<WrittenFile[]> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const out: WrittenFile[] = [];
  const caCrt = join(opts.dir, 'ca.crt');
  const caKey = join(opts.dir, 'ca.key');
  let ca: CertificateAuthority;
  if (existsSync(caCrt) && existsSync(caKey)) {
    ca = await loadCa(readFileSync(caCrt, 'utf8'), readFileSync(caKey, 'utf8'));
    out.push({ path: caCrt, what: 'local CA (existing, reused)', fingerprint256: ca.fingerprint256, reused: true });
  } else {
    ca = await createCertificateAuthority('hdc development CA');
    writeFileSync(caCrt, ca.cert);
    writeFileSync(caKey, ca.key, { mode: 0o600 });
    out.push({ path: caCrt, what: 'local CA certificate (trust it as --ca / --client-ca)', fingerprint256: ca.fingerprint256 });
    out.push({ path: caKey, what: 'local CA private key' });
  }
  const issue = async (base: string, what: string, req: Parameters<typeof issueCertificate>[1]) => {
    const crt = join(opts.dir, `${base}.crt`);
    const key = join(opts.dir, `${base}.key`);
    if (!opts.force && existsSync(crt) && existsSync(key)) {
      out.push({ path: crt, what: `${what} (existing, kept)`, fingerprint256: new NodeX509(readFileSync(crt)).fingerprint256, reused: true });
      return;
    }
    const issued = await issueCertificate(ca, req);
    writeFileSync(crt, issued.cert);
    writeFileSync(key, issued.key, { mode: 0o600 });
    out.push({ path: crt, what, fingerprint256: issued.fingerprint256 });
    out.push({ path: key, what: `${what} private key` });
  };
  await issue('server', 'server certificate (localhost, 127.0.0.1, ::1)', {
    commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'],
  });
  for (const partner of opts.partners) {
    await issue(partnerFileName(partner), `client certificate CN=${partner}`, { commonName: partner, usage: 'client' });
  }
  return out;
}
