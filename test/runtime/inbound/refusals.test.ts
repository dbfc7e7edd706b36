// What operators see when the listener refuses a request, and what the partner gets: one log line
// per refusal (reason code, path, peer; no message content), a 401 that names the certificate's
// problem, 413 delivered before the connection closes (Content-Length or Expect: 100-continue),
// 408 on a request timeout, client aborts at info, and the connection limits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { EventEmitter, once } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import pino from 'pino';
import { adt, createPki, makePlan, msas, post, sender, startTestRuntime, type TestPki, type TestRuntime } from './helpers.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';

type Line = Record<string, unknown>;

/** A real pino logger whose lines are kept, with a way to wait for one. */
function capture() {
  const lines: Line[] = [];
  const events = new EventEmitter();
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) {
        if (!l) continue;
        const line = JSON.parse(l) as Line;
        lines.push(line);
        events.emit('line', line);
      }
      done();
    },
  });
  const waitFor = (pred: (l: Line) => boolean, what: string, from = 0, ms = 15_000): Promise<Line> => {
    const found = lines.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off('line', on);
        reject(new Error(`no log line: ${what}; last lines: ${JSON.stringify(lines.slice(-4))}`));
      }, ms);
      const on = (l: Line) => {
        if (!pred(l)) return;
        clearTimeout(timer);
        events.off('line', on);
        resolve(l);
      };
      events.on('line', on);
    });
  };
  return { lines, waitFor, log: pino({ level: 'debug' }, stream) };
}

let pki: TestPki;
let rt: TestRuntime;
let logs: ReturnType<typeof capture>;
let lab: IssuedCertificate;
let foreignLab: IssuedCertificate;
let expiredLab: IssuedCertificate;

const PATIENT = 'ZEBRAFAMILY';

test.before(async () => {
  pki = await createPki();
  // The expired one is issued by the right CA, with the right CN.
  [lab, foreignLab, expiredLab] = await Promise.all([pki.client('lab'), pki.foreign('lab'), pki.expired('lab')]);
  logs = capture();
  const plan = makePlan([
    sender({ name: 'lab', path: '/hl7/lab', identity: { kind: 'client_cert', subject: 'CN=lab' }, maxBodyBytes: 8192 }),
    sender({ name: 'open', path: '/hl7/open' }),
  ]);
  rt = await startTestRuntime(plan, pki, { log: logs.log, requestTimeoutMs: 1500, idleTimeoutMs: 400, tlsHandshakeTimeoutMs: 400, maxConnections: 20 });
});

test.after(async () => {
  await rt.stop();
});

const url = (p: string) => rt.url + p;
const refusals = (reason: string) => logs.lines.filter((l) => l.msg === 'request refused' && l.reason === reason);
const noContentIn = (line: Line) => assert.not.ok(JSON.stringify(line).includes(PATIENT), 'no message content in the log');
const body = (controlId: string, extra?: string) => adt({ controlId, ...(extra ? { extra } : {}) }).replace('DOE^JOHN', `${PATIENT}^JOHN`);

test('a certificate from another CA: 401 that says so, every time, one warn line each', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await post(url('/hl7/lab'), body(`F${i}`), { cert: foreignLab, ca: pki.ca.cert });
    assert.is(r.status, 401);
    assert.match(r.text, /not issued by the CA this endpoint trusts/);
  }
  const lines = refusals('certificate-untrusted');
  assert.is(lines.length, 5);
  for (const l of lines) {
    assert.is(l.level, 40);
    assert.is(l.status, 401);
    assert.is(l.path, '/hl7/lab');
    assert.is(l.peer, '127.0.0.1');
    noContentIn(l);
  }
});

test('an expired certificate from the right CA: 401 with its expiry date', async () => {
  const r = await post(url('/hl7/lab'), body('EXP1'), { cert: expiredLab, ca: pki.ca.cert });
  assert.is(r.status, 401);
  assert.match(r.text, /^the client certificate expired on \d{4}-\d{2}-\d{2}/);
  assert.is(refusals('certificate-expired').length, 1);
});

test('no certificate, wrong content type, empty body, not HL7: one line each with its reason', async () => {
  const none = await post(url('/hl7/lab'), body('N1'), { ca: pki.ca.cert });
  assert.is(none.status, 401);
  const json = await post(url('/hl7/lab'), body('N2'), { cert: lab, ca: pki.ca.cert, contentType: 'application/json' });
  assert.is(json.status, 415);
  const empty = await post(url('/hl7/lab'), '', { cert: lab, ca: pki.ca.cert });
  assert.is(empty.status, 400);
  const garbage = await post(url('/hl7/lab'), `PID|1||${PATIENT}`, { cert: lab, ca: pki.ca.cert });
  assert.is(garbage.status, 400);
  for (const [reason, status, level] of [['identity-missing', 401, 40], ['content-type', 415, 30], ['body-empty', 400, 30], ['not-hl7', 400, 30]] as const) {
    const lines = refusals(reason);
    assert.is(lines.length, 1, reason);
    assert.is(lines[0]!.status, status);
    assert.is(lines[0]!.level, level);
    assert.is(lines[0]!.sender ?? 'lab', 'lab');
    noContentIn(lines[0]!);
  }
  const ok = await post(url('/hl7/lab'), body('N5'), { cert: lab, ca: pki.ca.cert });
  assert.is(msas(ok.text)[0]!.code, 'AA');
});

/** Streams a large body (announced by Content-Length) and resolves with the answer, or the error. */
function postLarge(size: number, headers: Record<string, string> = {}): Promise<{ status?: number; text?: string; error?: string; informational: number }> {
  return new Promise((resolve) => {
    let informational = 0;
    const req = httpsRequest(url('/hl7/lab'), {
      method: 'POST', agent: false, ca: pki.ca.cert, cert: lab.cert, key: lab.key,
      headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': String(size), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text, informational }));
    });
    req.on('information', () => informational++);
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message, informational }));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    if (headers.Expect) req.once('continue', write);
    else write();
    if (headers.Expect) req.once('response', () => req.destroyed || req.end());
  });
}

test('413 reaches the client when Content-Length announces too much, while it is still sending', async () => {
  const before = refusals('body-too-large').length;
  for (let i = 0; i < 5; i++) {
    const r = await postLarge(8 * 1024 * 1024);
    assert.is(r.status, 413, JSON.stringify(r));
    assert.match(r.text!, /exceeds the limit of 8192 bytes/);
  }
  assert.is(refusals('body-too-large').length - before, 5);
  assert.is(refusals('body-too-large').at(-1)!.level, 40);
});

test('Expect: 100-continue: an excess is answered 413 without "continue"; an acceptable body gets it', async () => {
  const refused = await postLarge(1024 * 1024, { Expect: '100-continue' });
  assert.is(refused.status, 413);
  assert.is(refused.informational, 0, 'no 100 Continue before the 413');
  const ok = await new Promise<{ status: number; text: string; continued: boolean }>((resolve, reject) => {
    let continued = false;
    const data = Buffer.from(body('CONT-1'));
    const req = httpsRequest(url('/hl7/lab'), {
      method: 'POST', agent: false, ca: pki.ca.cert, cert: lab.cert, key: lab.key,
      headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': String(data.length), Expect: '100-continue' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text, continued }));
    });
    req.on('continue', () => {
      continued = true;
      req.end(data);
    });
    req.on('error', reject);
  });
  assert.ok(ok.continued);
  assert.is(ok.status, 200);
  assert.is(msas(ok.text)[0]!.code, 'AA');
  // Refused before "continue" (no certificate): 401 at once, and the connection is not reused,
  // since the client may still send the body it announced.
  const unauthorised = await new Promise<{ status: number; connection: string; continued: boolean }>((resolve, reject) => {
    let continued = false;
    const req = httpsRequest(url('/hl7/lab'), {
      method: 'POST', agent: false, ca: pki.ca.cert,
      headers: { 'Content-Type': 'application/hl7-v2', 'Content-Length': '500', Expect: '100-continue' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: String(res.headers.connection), continued }));
      req.destroy();
    });
    req.on('continue', () => (continued = true));
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
  assert.equal(unauthorised, { status: 401, connection: 'close', continued: false });
});

/** A raw TLS connection as the lab partner. */
async function rawConnection(cert: IssuedCertificate | null = lab): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port: rt.port, ca: pki.ca.cert, servername: 'localhost', ...(cert ? { cert: cert.cert, key: cert.key } : {}) });
  await once(socket, 'secureConnect');
  return socket;
}

function readAll(socket: TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c) => (text += c));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
}

test('a request not received within the request timeout is answered 408, one info line', async () => {
  const socket = await rawConnection();
  const answer = readAll(socket);
  socket.write(`POST /hl7/lab HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/hl7-v2\r\nContent-Length: 1000\r\n\r\nMSH|^~\\&|`);
  const text = await answer;
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const line = await logs.waitFor((l) => l.reason === 'request-timeout', '408 line');
  assert.is(line.level, 30);
  assert.is(line.path, '/hl7/lab');
  assert.is(logs.lines.filter((l) => l.reason === 'request-timeout').length, 1);
  assert.is(logs.lines.filter((l) => l.msg === 'request aborted by the client').length, 0, 'the timeout is not logged twice');
});

test('a client that goes away mid-body is logged at info, never as an error', async () => {
  const socket = await rawConnection();
  socket.write(`POST /hl7/lab HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/hl7-v2\r\nContent-Length: 1000\r\n\r\nMSH|^~\\&|`);
  // The handler is reading the body once the first bytes are in; then the client vanishes.
  await new Promise((r) => setImmediate(r));
  setTimeout(() => socket.destroy(), 50);
  const line = await logs.waitFor((l) => l.msg === 'request aborted by the client', 'abort line');
  assert.is(line.level, 30);
  assert.is(line.reason, 'client-aborted');
  assert.is(logs.lines.filter((l) => (l.level as number) >= 50).length, 0, 'no error lines');
});

test('a connection that never sends a request is closed after the idle timeout', async () => {
  const socket = await rawConnection();
  const closed = once(socket, 'close');
  await closed;
  const line = await logs.waitFor((l) => l.reason === 'idle-timeout', 'idle line');
  assert.is(line.level, 30);
  assert.is(line.peer, '127.0.0.1');
});

test('a TLS handshake that does not complete is cut at the handshake timeout', async () => {
  const socket = netConnect({ host: '127.0.0.1', port: rt.port });
  socket.on('error', () => undefined);
  await once(socket, 'close');
  const line = await logs.waitFor((l) => l.reason === 'tls-handshake-timeout', 'handshake timeout line');
  assert.is(line.msg, 'TLS handshake failed');
  assert.not.ok(JSON.stringify(line).includes('SSL routines'), 'no OpenSSL text');
});

test('a client that rejects our server certificate: no HTTP answer on a failed handshake, a named line', async () => {
  const before = refusals('bad-request').length;
  const from = logs.lines.length;
  const other = await createPki(); // the client trusts another CA than the one that issued our certificate
  const socket = tlsConnect({ host: '127.0.0.1', port: rt.port, ca: other.ca.cert, servername: 'localhost', cert: lab.cert, key: lab.key });
  let received = '';
  socket.on('data', (c) => (received += c));
  const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
  assert.match(String(err.code), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  const line = await logs.waitFor((l) => /^TLS handshake (failed|not completed)$/.test(String(l.msg)) && l.reason !== 'tls-handshake-timeout', 'handshake line', from);
  assert.is(line.peer, '127.0.0.1');
  assert.not.ok(JSON.stringify(line).includes('SSL routines'), 'no OpenSSL text');
  assert.is(received, '');
  assert.is(refusals('bad-request').length, before, 'never a bare 400');
});

test('connections over the limit are dropped, with a warn line; room again once they close', async () => {
  const limited = await startTestRuntime(makePlan([sender({ name: 'open', path: '/hl7/open' })]), pki, { log: logs.log, maxConnections: 3 });
  const held: TLSSocket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const s = tlsConnect({ host: '127.0.0.1', port: limited.port, ca: pki.ca.cert, servername: 'localhost' });
      await once(s, 'secureConnect');
      held.push(s);
    }
    const extra = netConnect({ host: '127.0.0.1', port: limited.port });
    extra.on('error', () => undefined);
    await once(extra, 'close');
    const line = await logs.waitFor((l) => l.reason === 'too-many-connections', 'drop line');
    assert.is(line.level, 40);
    assert.is(line.maxConnections, 3);
    for (const s of held) {
      const closed = once(s, 'close');
      s.destroy();
      await closed;
    }
    // The server counts a connection gone once it has seen it close.
    let ok;
    for (let i = 0; i < 50 && !ok; i++) {
      try {
        ok = await post(limited.url + '/hl7/open', body('AFTER-LIMIT'), { ca: pki.ca.cert });
      } catch {
        await new Promise((r) => setImmediate(r));
      }
    }
    assert.is(msas(ok!.text)[0]!.code, 'AA');
  } finally {
    for (const s of held) s.destroy();
    await limited.stop();
  }
});

test.run();
