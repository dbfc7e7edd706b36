// `hdc dev-certs`: a local CA, a server certificate and partner client certificates, so
// `hdc run` serves HTTPS with mutual TLS out of the box on a developer's machine.
import { relative, resolve } from 'node:path';
import { defineCommand } from '../command.ts';
import { DEV_CERT_DIR } from '../../runtime/platform/config/run-options.ts';
import { writeDevCerts } from '../../runtime/platform/tls/dev-certs.ts';

const usage = `Usage: hdc dev-certs [--dir ${DEV_CERT_DIR}] [--partner NAME]… [--force]

Writes a development PKI (PEM files) for local HTTPS with mutual TLS:
  ca.crt, ca.key           a local certificate authority (reused when present, so partners can be added)
  server.crt, server.key   the server certificate for localhost, 127.0.0.1 and ::1
  NAME.crt, NAME.key       one client certificate per partner, subject CN=NAME (default: partner)

\`hdc run\` uses ${DEV_CERT_DIR}/server.crt, server.key and ca.crt (as the client CA) when they exist.
A sender whose identity is client_cert "CN=NAME" then accepts that partner's certificate:
  hdc send message.hl7 --to https://127.0.0.1:8443/hl7/NAME \\
    --cert ${DEV_CERT_DIR}/NAME.crt --key ${DEV_CERT_DIR}/NAME.key --ca ${DEV_CERT_DIR}/ca.crt

Options:
  --dir DIR        output folder, default ${DEV_CERT_DIR}
  --partner NAME   a client certificate CN=NAME; repeat for several partners
  --force          re-issue the server and partner certificates that already exist
Development only: the CA's private key sits next to the certificates.`;

export default defineCommand({
  name: 'dev-certs',
  usage,
  options: { dir: { type: 'string' }, partner: { type: 'string', multiple: true }, force: { type: 'boolean' } },
  async run({ values }) {
    const dir = resolve(values.dir ?? DEV_CERT_DIR);
    const partners = values.partner?.length ? values.partner : ['partner'];
    const written = await writeDevCerts({ dir, partners, force: values.force ?? false });
    console.log(`hdc dev-certs: ${relative(process.cwd(), dir) || '.'}/`);
    for (const f of written) {
      const name = relative(process.cwd(), f.path) || f.path;
      console.log(`  ${name.padEnd(28)} ${f.what}${f.fingerprint256 ? `\n  ${''.padEnd(28)} SHA-256 ${f.fingerprint256}` : ''}`);
    }
    return 0;
  },
});
