// The front door with inputs real senders write, over mutual TLS into a real journal: line breaks
// a sender was not declared with, lines that are not segments, segments joined into the MSH,
// doubled escape characters, `require`, batch counts, and senders sharing a path that each decode
// with their own charset, line endings and body limit. Every refusal is an ACK with a located ERR
// and leaves nothing in the journal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, type Hl7Message } from '../../../runtime/inbound/hl7/index.ts';
import { createPki, field, hl7Path, makePlan, msas, post, sender, startTestRuntime, workflow, type TestPki, type TestRuntime } from './helpers.ts';
import type { IssuedCertificate } from '../../../runtime/platform/tls/certificate-authority.ts';
import type { Route } from '../../../plan/plan.types.ts';

let pki: TestPki;
let rt: TestRuntime;
let partner: IssuedCertificate;
const SRC = 'front.hdc:1:1-1:10';
const routeAll: Route[] = [{ types: [{ code: '*', trigger: '*' }], workflow: 'ingest', src: SRC }];
const fields = [field('family', 'PID-5'), field('given', 'PID-5.2'), field('note', 'OBX-5')];

test.before(async () => {
  pki = await createPki();
  partner = await pki.client('partner');
  const identity = { kind: 'client_cert' as const, subject: 'CN=partner' };
  const plan = makePlan([
    sender({ name: 'standard', path: '/hl7/standard', identity, segmentBreaks: 'cr', fields, routes: routeAll }),
    sender({ name: 'lf', path: '/hl7/lf', identity, segmentBreaks: 'lf', fields, routes: routeAll }),
    sender({ name: 'any', path: '/hl7/any', identity, segmentBreaks: 'any', fields, routes: routeAll }),
    sender({
      name: 'strict', path: '/hl7/strict', identity, segmentBreaks: 'cr', fields, routes: routeAll,
      require: [hl7Path('PID'), hl7Path('PID-3'), hl7Path('PV1-3.2')],
    }),
    // Two senders on one path, each with its own decoding.
    sender({
      name: 'latin', path: '/hl7/shared', identity, segmentBreaks: 'cr', charset: 'ISO-8859-1', maxBodyBytes: 400, fields, routes: routeAll,
      match: [{ path: hl7Path('MSH-4'), op: '==', values: ['LATIN_FAC'], src: SRC }],
    }),
    sender({
      name: 'unicode', path: '/hl7/shared', identity, segmentBreaks: 'lf', charset: 'UTF-8', fields, routes: routeAll,
      match: [{ path: hl7Path('MSH-4'), op: '==', values: ['UTF_FAC'], src: SRC }],
    }),
  ], [workflow('ingest')]);
  rt = await startTestRuntime(plan, pki);
});

test.after(async () => {
  await rt.stop();
});

const send = (path: string, body: string | Buffer) => post(rt.url + path, body, { cert: partner, ca: pki.ca.cert });
const stored = (controlId: string) =>
  rt.db.prepare('SELECT sender FROM messages WHERE control_id = ?').all(controlId).map((r) => (r as { sender: string }).sender);
const inputOf = (controlId: string) => {
  const row = rt.db.prepare('SELECT r.input FROM workflow_runs r JOIN messages m ON m.id = r.message_id WHERE m.control_id = ?').get(controlId) as { input: string };
  return JSON.parse(row.input) as { fields: Record<string, unknown> };
};
const ackOf = (text: string): Hl7Message => parseMessage(text);
const at = (m: Hl7Message, path: string) => m.get(hl7Path(path));

function message(controlId: string, opts: { facility?: string; version?: string; pid?: string; extra?: string[]; msh2?: string } = {}): string[] {
  return [
    `MSH|${opts.msh2 ?? '^~\\&'}|SENDAPP|${opts.facility ?? 'FAC'}|HDC|HOSP|20240101120000||ORU^R01^ORU_R01|${controlId}|P|${opts.version ?? '2.5.1'}`,
    opts.pid ?? 'PID|1||12345^^^ACME^MR||EVERYMAN&&&&Aniston^ADAM^A||19800101|M',
    'PV1|1|I|WARD^101^A',
    ...(opts.extra ?? []),
  ];
}

test('LF breaks posted to a sender that accepts CR: AR naming what was found and what is accepted, nothing stored', async () => {
  for (const [eol, name] of [['\n', 'LF'], ['\r\n', 'CRLF']] as const) {
    const id = `UNDECLARED-${name}`;
    const r = await send('/hl7/standard', message(id, { version: '2.3' }).join(eol) + eol);
    assert.is(r.status, 200);
    const ack = ackOf(r.text);
    assert.equal([at(ack, 'MSA-1'), at(ack, 'MSA-2'), at(ack, 'MSA-3')], ['AR', id,
      `segments are separated by ${name} (line 2, before PID), but this sender accepts CR only: send CR (the standard) or declare line_endings ${name.toLowerCase()} (or any) for this sender`]);
    // The ACK's header is the message's own, not one that swallowed the whole message.
    assert.is(at(ack, 'MSH-12'), '2.3');
    assert.is(at(ack, 'ERR-1.1'), 'PID');
    assert.is(at(ack, 'ERR-1.4.1'), '100');
    assert.equal(stored(id), []);
  }
  const r = await send('/hl7/lf', message('CR-TO-LF').join('\r') + '\r');
  assert.match(at(ackOf(r.text), 'ERR-3.2') as string, 'segments are separated by CR (line 2, before PID), but this sender accepts LF only');
  assert.equal(stored('CR-TO-LF'), []);
});

test('with LF breaks allowed, a line that is not a segment continues the value before it', async () => {
  const body = message('CONT-1', { extra: ['OBX|1|TX|NOTE||Potassium high.', 'Repeat sample advised.|||||F'] }).join('\n') + '\n';
  for (const path of ['/hl7/lf', '/hl7/any']) {
    const id = `CONT-${path.slice(5)}`;
    const r = await send(path, body.replace('CONT-1', id));
    assert.is(msas(r.text)[0]!.code, 'AA', r.text);
    assert.equal(inputOf(id).fields, { family: 'EVERYMAN', given: 'ADAM', note: 'Potassium high.\nRepeat sample advised.' });
  }
});

test('a line that is not a segment: AR with ERR at that segment, nothing stored', async () => {
  const r = await send('/hl7/standard', message('BADSEG', { extra: ['obx|1|TX|x||y'] }).join('\r') + '\r');
  const ack = ackOf(r.text);
  assert.is(at(ack, 'MSA-1'), 'AR');
  assert.is(at(ack, 'ERR-2.1'), 'obx');
  assert.is(at(ack, 'ERR-2.2'), '4');
  assert.is(at(ack, 'ERR-3.1'), '100');
  assert.match(at(ack, 'ERR-3.2') as string, 'line 4 is not a segment: "obx"');
  assert.equal(stored('BADSEG'), []);
});

test('segments joined by spaces, or a control ID cut by a line break: AR with a located ERR', async () => {
  const joined = await send('/hl7/standard', message('JOINED').join(' ') + '\r');
  const j = ackOf(joined.text);
  assert.is(at(j, 'MSA-1'), 'AR');
  assert.equal([at(j, 'ERR-2.1'), at(j, 'ERR-2.3')], ['MSH', '12']);
  assert.match(at(j, 'ERR-3.2') as string, 'MSH-12 ("2.5.1 PID") holds the start of a PID segment');
  // Joined by the field separator: far more MSH fields than 2.5.1 defines.
  const piped = await send('/hl7/standard', message('PIPED', { pid: 'PID|1||12345||DOE^JOHN||19800101|M|||||||||||||||||||||||||X' }).join('|') + '\r');
  assert.is(piped.status, 200, piped.text);
  assert.match(at(ackOf(piped.text), 'ERR-3.2') as string, /^MSH-1[3-9] \("(PID|PV1)"\) holds the start of a (PID|PV1) segment/);
  const wide = await send('/hl7/standard', `MSH|^~\\&|A|FAC|B|C|2024||ADT^A01|WIDE|P|2.3||||${'|^x'.repeat(16)}\rPID|1\r`);
  assert.is(wide.status, 200, wide.text);
  const w = ackOf(wide.text);
  assert.equal([at(w, 'MSA-1'), at(w, 'ERR-1.1'), at(w, 'ERR-1.3')], ['AR', 'MSH', '20']);
  assert.match(at(w, 'MSA-3') as string, 'MSH has 32 fields where HL7 2.3 defines 19');
  const cut = await send('/hl7/any', message('CUT\n0042').join('\n') + '\n');
  assert.is(cut.status, 200, cut.text);
  const c = ackOf(cut.text);
  assert.equal([at(c, 'MSA-1'), at(c, 'ERR-2.3'), at(c, 'ERR-3.1')], ['AR', '10', '102']);
  assert.match(at(c, 'ERR-3.2') as string, 'MSH-10 is cut by a line break');
  assert.equal([...stored('JOINED'), ...stored('PIPED'), ...stored('WIDE'), ...stored('CUT\n0042')], []);
});

test('MSH-2 with the escape character doubled, or missing, is accepted; the ACK declares ^~\\&', async () => {
  const doubled = await send('/hl7/standard', message('DOUBLED', { msh2: '^~\\\\&', pid: 'PID|1||1||O\\T\\BRIEN&&&&X^PAT' }).join('\r') + '\r');
  assert.is(msas(doubled.text)[0]!.code, 'AA', doubled.text);
  assert.ok(doubled.text.startsWith('MSH|^~\\&|HDC|HOSP|SENDAPP|FAC|'));
  assert.equal(inputOf('DOUBLED').fields.family, 'O&BRIEN');
  const missing = await send('/hl7/standard', message('NOESC', { msh2: '^~&', pid: 'PID|1||1||C:\\DATA&&&&X^PAT' }).join('\r') + '\r');
  assert.is(msas(missing.text)[0]!.code, 'AA', missing.text);
  assert.equal(inputOf('NOESC').fields.family, 'C:\\DATA');
});

test('require: a missing segment or an empty position is AE with the position, before the workflow', async () => {
  const ok = await send('/hl7/strict', message('REQ-OK').join('\r') + '\r');
  assert.is(msas(ok.text)[0]!.code, 'AA');
  const noPid = await send('/hl7/strict', message('REQ-SEG').filter((s) => !s.startsWith('PID')).join('\r') + '\r');
  const s = ackOf(noPid.text);
  assert.equal([at(s, 'MSA-1'), at(s, 'ERR-2.1'), at(s, 'ERR-2.2'), at(s, 'ERR-3.1'), at(s, 'ERR-3.2')],
    ['AE', 'PID', '1', '100', 'segment PID is required from this sender and is missing']);
  const emptyId = await send('/hl7/strict', message('REQ-FIELD', { pid: 'PID|1||""||DOE' }).join('\r') + '\r');
  assert.equal([at(ackOf(emptyId.text), 'MSA-1'), at(ackOf(emptyId.text), 'ERR-2.3'), at(ackOf(emptyId.text), 'ERR-3.1')], ['AE', '3', '101']);
  const noBed = await send('/hl7/strict', message('REQ-COMP').join('\r').replace('WARD^101^A', 'WARD^^A') + '\r');
  const b = ackOf(noBed.text);
  assert.equal([at(b, 'MSA-1'), at(b, 'ERR-2.1'), at(b, 'ERR-2.3'), at(b, 'ERR-2.5'), at(b, 'ERR-3.2')], ['AE', 'PV1', '3', '2', 'PV1-3.2 is required from this sender and is empty']);
  assert.equal(stored('REQ-OK'), ['strict']);
  assert.equal([...stored('REQ-SEG'), ...stored('REQ-FIELD'), ...stored('REQ-COMP')], []);
});

test('senders sharing a path each decode with their own charset, line endings and body limit', async () => {
  const latin = Buffer.from(message('SHARED-L', { facility: 'LATIN_FAC', pid: 'PID|1||1||MÜLLER^JOSÉ' }).join('\r') + '\r', 'latin1');
  const l = await send('/hl7/shared', latin);
  assert.is(msas(l.text)[0]!.code, 'AA', l.text);
  assert.equal(inputOf('SHARED-L').fields.family, 'MÜLLER');
  const utf = Buffer.from(message('SHARED-U', { facility: 'UTF_FAC', pid: 'PID|1||1||MÜLLER^JOSÉ' }).join('\n') + '\n', 'utf8');
  const u = await send('/hl7/shared', utf);
  assert.is(msas(u.text)[0]!.code, 'AA', u.text);
  assert.equal(inputOf('SHARED-U').fields, { family: 'MÜLLER', given: 'JOSÉ', note: null });
  // LF is the second sender's policy, not the first's.
  const lfToLatin = await send('/hl7/shared', message('SHARED-LF', { facility: 'LATIN_FAC' }).join('\n') + '\n');
  assert.match(at(ackOf(lfToLatin.text), 'ERR-3.2') as string, 'this sender accepts CR only');
  // The first sender's 400-byte limit does not apply to the second.
  const big = 'NTE|1||' + 'x'.repeat(600);
  assert.is((await send('/hl7/shared', message('SHARED-BIG-L', { facility: 'LATIN_FAC', extra: [big] }).join('\r') + '\r')).status, 413);
  const bigU = await send('/hl7/shared', message('SHARED-BIG-U', { facility: 'UTF_FAC', extra: [big] }).join('\n') + '\n');
  assert.is(msas(bigU.text)[0]!.code, 'AA');
  assert.equal([...stored('SHARED-L'), ...stored('SHARED-U'), ...stored('SHARED-BIG-U')], ['latin', 'unicode', 'unicode']);
  assert.equal([...stored('SHARED-LF'), ...stored('SHARED-BIG-L')], []);
});

test('BTS-1 that does not match the messages received: every message answered, the mismatch in BTS-2', async () => {
  const body = ['BHS|^~\\&|SENDAPP|FAC|HDC|HOSP|2024||||BATCH-9', ...message('BTS-1'), ...message('BTS-2'), 'BTS|3', ''].join('\r');
  const r = await send('/hl7/standard', body);
  assert.equal(msas(r.text).map((m) => `${m.code}:${m.controlId}`), ['AA:BTS-1', 'AA:BTS-2']);
  const trailer = r.text.split('\r').filter(Boolean).pop()!;
  assert.is(trailer, 'BTS|2|BTS-1 (line 8) declares 3 messages, the batch holds 2');
  assert.equal([...stored('BTS-1'), ...stored('BTS-2')], ['standard', 'standard']);
});

test.run();
