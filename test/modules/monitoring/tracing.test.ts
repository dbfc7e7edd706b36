// OpenTelemetry traces to an OTLP/HTTP receiver in this test: a span per answered message, a
// child span per workflow run (also when the run settles before the message is answered: `ack
// after_workflow`), and under it a span per step, the outbound request's with its HTTP status.
// No control ID or content in any span. The partner API receives a W3C `traceparent` whose trace id
// and parent id are those of the exported step span that sent the request.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hl7, monitoredPlan, startMonitored, startPartnerApi, type Monitored, type PartnerApi } from './monitoring-harness.ts';

interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

let api: PartnerApi;
let m: Monitored;
let receiver: Server;
const spans: OtlpSpan[] = [];
const bodies: string[] = [];
let onSpans: (() => void) | undefined;

function attr(s: OtlpSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}

function until(pred: () => boolean, boundMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const timer = setTimeout(() => reject(new Error(`spans seen: ${spans.map((s) => s.name).join(', ')}`)), boundMs);
    onSpans = () => {
      if (!pred()) return;
      clearTimeout(timer);
      resolve();
    };
  });
}

test.before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      if (req.url === '/v1/traces' && /json/.test(String(req.headers['content-type']))) {
        const body = JSON.parse(text) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      onSpans?.();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  api = await startPartnerApi();
  const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  m = await startMonitored(monitoredPlan(api.url, `tracing {\n  otlp "${otlp}"\n  service "hdc-test"\n}\n`), { tracing: { exportDelayMs: 100 } });
});

test.after(async () => {
  await m?.stop();
  await api?.close();
  receiver?.close();
});

test('a span per message, its workflow run as a child, the run\'s steps under it', async () => {
  const settled = m.settled(2);
  assert.is((await m.send('/hl7/lab', hl7({ family: 'SMITH', controlId: 'TRACE-CTL-1' }))).code, 'AA');
  assert.is((await m.send('/hl7/clinic', hl7({ family: 'JONES', controlId: 'TRACE-CTL-2' }))).code, 'AA');
  await settled;
  const named = (name: string) => spans.filter((s) => s.name === name);
  await until(() => named('hl7 message').length === 2 && named('workflow admit').length === 2 && named('step notify').length === 2);
  for (const sender of ['lab', 'clinic']) {
    const message = named('hl7 message').find((s) => attr(s, 'hdc.sender') === sender)!;
    assert.ok(message, sender);
    assert.is(attr(message, 'hl7.message_type'), 'ADT^A01');
    assert.is(attr(message, 'hl7.ack_code'), 'AA');
    assert.not.ok(message.parentSpanId, 'the message span is the root');
    const run = named('workflow admit').find((s) => s.parentSpanId === message.spanId);
    assert.ok(run, `${sender}: the run hangs under its message (after_workflow too)`);
    assert.is(run!.traceId, message.traceId);
    assert.is(attr(run!, 'hdc.run.status'), 'done');
    const notify = named('step notify').find((s) => s.parentSpanId === run!.spanId);
    assert.ok(notify);
    assert.is(notify!.traceId, message.traceId);
    assert.is(notify!.kind, 3, 'an outbound request is a CLIENT span');
    assert.is(Number(attr(notify!, 'http.response.status_code')), 200);
  }
  const all = bodies.join('\n');
  assert.match(all, /"hdc-test"/, 'service.name');
  for (const secret of ['TRACE-CTL-1', 'TRACE-CTL-2', 'SMITH', 'JONES']) assert.not.ok(all.includes(secret), secret);
});

test('an outbound request carries the traceparent of its exported step span', async () => {
  const before = api.traceparents.length;
  const settled = m.settled(1);
  assert.is((await m.send('/hl7/lab', hl7({ family: 'PROPAGATE' }))).code, 'AA');
  await settled;
  const sent = api.traceparents.slice(before);
  assert.is(sent.length, 1);
  const header = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(sent[0] ?? '');
  assert.ok(header, `a W3C traceparent: ${sent[0]}`);
  const [, traceId, parentId] = header!;
  await until(() => spans.some((s) => s.name === 'step notify' && s.spanId === parentId));
  const step = spans.find((s) => s.name === 'step notify' && s.spanId === parentId)!;
  assert.is(step.traceId, traceId, 'the request is in the step span\'s trace');
  const run = spans.find((s) => s.spanId === step.parentSpanId);
  assert.is(run?.name, 'workflow admit');
  const message = spans.find((s) => s.spanId === run!.parentSpanId);
  assert.is(message?.name, 'hl7 message');
  assert.is(message!.traceId, traceId, 'the message, its run and the request share one trace');
  // Each request's trace is its own message's.
  const others = api.traceparents.slice(0, before).map((h) => h?.split('-')[1]);
  assert.not.ok(others.includes(traceId));
});

test.run();
