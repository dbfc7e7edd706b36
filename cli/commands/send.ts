// `hdc send`: posts HL7 v2 files to an HL7-over-HTTP endpoint the way a partner would, one
// message per request (files holding batches or several messages are split), and prints each
// ACK's MSA segment. Exit code 1 when any answer is AE/AR/CE/CR or a transport error occurred.
// Every problem is one line naming the file (never a stack trace); a file that cannot be read or
// decoded is skipped and the others are still sent.
import { readFileSync } from 'node:fs';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { defineCommand, UsageError } from '../command.ts';
import { decodeBody, splitBatch, type SegmentBreaks } from '../../runtime/inbound/hl7/index.ts';

const usage = `Usage: hdc send FILE… --to URL [options]

Posts each HL7 v2 message in the files (batches and concatenated messages are split; one
message per request, in order) and prints every ACK's MSA segment.

Options:
  --to URL               the sender endpoint, e.g. https://127.0.0.1:8443/hl7/labcorp
  --cert FILE --key FILE client certificate and key (mutual TLS)
  --ca FILE              CA that issued the server certificate (default: the system's)
  --user NAME            Basic auth user; the password from --password or HDC_SEND_PASSWORD
  --password SECRET      Basic auth password (prefer HDC_SEND_PASSWORD: command lines are visible)
  --breaks MODE          segment breaks in the files: cr, crlf, lf or any (default any)
  --normalize            send segments ended by CR (the standard) whatever the files use
  --whole                post each file as it is, in one request (no splitting)
  --content-type TYPE    default application/hl7-v2
  --charset NAME         charset to declare (default: detected, UTF-8 or ISO-8859-1)
  --quiet                print nothing but failures
Exit code: 0 when every message was acknowledged with AA or CA; 1 otherwise (AE/AR/CE/CR, HTTP
error, no ACK, a file that could not be read or decoded); 2 for a usage error.`;

interface Reply {
  status: number;
  body: Buffer;
  contentType: string;
}

function post(url: URL, body: Buffer, headers: Record<string, string>, tls: { cert?: Buffer; key?: Buffer; ca?: Buffer }, agent: HttpAgent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, agent, ...(secure ? tls : {}) },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: String(res.headers['content-type'] ?? '') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.end(body);
  });
}

export function msaSegments(ack: string): string[] {
  return ack.split(/\r\n|\r|\n/).filter((s) => s.startsWith('MSA'));
}

export default defineCommand({
  name: 'send',
  usage,
  options: {
    to: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' },
    user: { type: 'string' }, password: { type: 'string' }, breaks: { type: 'string' },
    normalize: { type: 'boolean' }, whole: { type: 'boolean' }, 'content-type': { type: 'string' },
    charset: { type: 'string' }, quiet: { type: 'boolean' },
  },
  choices: { breaks: ['cr', 'crlf', 'lf', 'any'] },
  minPositionals: 1,
  async run({ values, positionals: files }) {
    if (!values.to) throw new UsageError('--to URL is required');
    if (Boolean(values.cert) !== Boolean(values.key)) throw new UsageError('--cert and --key go together');
    let url: URL;
    let tls: { cert?: Buffer; key?: Buffer; ca?: Buffer };
    try {
      url = new URL(values.to!);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`--to: expected an https:// URL, got "${values.to}"`);
      const pem = (flag: string, file: string | undefined) => {
        if (file === undefined) return undefined;
        try {
          return readFileSync(file);
        } catch (err) {
          throw new Error(`${flag} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      };
      const [cert, key, ca] = [pem('--cert', values.cert), pem('--key', values.key), pem('--ca', values.ca)];
      tls = { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
    } catch (err) {
      const message = err instanceof TypeError ? `--to: not a URL: "${values.to}"` : (err as Error).message;
      console.error(`hdc send: ${message}`);
      return 2;
    }
    const headers: Record<string, string> = {};
    if (values.user !== undefined) {
      const password = values.password ?? process.env.HDC_SEND_PASSWORD ?? '';
      headers.Authorization = 'Basic ' + Buffer.from(`${values.user}:${password}`, 'utf8').toString('base64');
    }
    const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const type = values['content-type'] ?? 'application/hl7-v2';
    let failures = 0;
    try {
      for (const file of files) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(file);
        } catch (err) {
          console.error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
          failures++;
          continue;
        }
        let label: string;
        let bodies: Buffer[];
        try {
          const decoded = decodeBody(bytes, values.charset ? { contentTypeCharset: values.charset } : {});
          label = values.charset ?? decoded.charset;
          const encoding = /^(iso-8859-1|latin1|us-ascii|ascii)$/i.test(label) ? 'latin1' : 'utf8';
          if (values.whole) bodies = [bytes];
          else {
            const eol = values.normalize ? '\r' : (/\r\n|\r|\n/.exec(decoded.text)?.[0] ?? '\r');
            const { messages } = splitBatch(decoded.text, (values.breaks ?? 'any') as SegmentBreaks);
            bodies = messages.map((m) => Buffer.from(eol === '\r' ? m : m.replace(/\r/g, eol), encoding));
          }
        } catch (err) {
          console.error(`${file}: cannot decode (${(err as Error).message})`);
          failures++;
          continue;
        }
        if (bodies.length === 0 || (!values.whole && bodies.every((b) => b.length === 0))) {
          console.error(`${file}: no HL7 v2 message in it (no MSH segment)`);
          failures++;
          continue;
        }
        for (let i = 0; i < bodies.length; i++) {
          const where = bodies.length > 1 ? `${file}#${i + 1}` : file;
          let reply: Reply;
          try {
            reply = await post(url, bodies[i]!, { ...headers, 'Content-Type': `${type}; charset=${label}` }, tls, agent);
          } catch (err) {
            console.error(`${where}: ${(err as Error).message}`);
            failures++;
            continue;
          }
          const replyText = reply.body.toString(/iso-8859-1/i.test(reply.contentType) ? 'latin1' : 'utf8');
          if (reply.status !== 200) {
            console.error(`${where}: HTTP ${reply.status} ${replyText.trim()}`);
            failures++;
            continue;
          }
          const msas = msaSegments(replyText);
          if (msas.length === 0) {
            console.error(`${where}: HTTP 200 without an MSA segment`);
            failures++;
            continue;
          }
          for (const msa of msas) {
            const code = msa.split(msa[3] ?? '|')[1] ?? '';
            const ok = code === 'AA' || code === 'CA';
            if (!ok) failures++;
            if (!ok || !values.quiet) (ok ? console.log : console.error)(`${where}: ${msa}`);
          }
        }
      }
    } finally {
      agent.destroy();
    }
    return failures ? 1 : 0;
  },
});
