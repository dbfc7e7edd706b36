// `send`: forwards the inbound HL7 message as received (to an HL7-over-HTTP endpoint, whose ACK
// is checked, or to a REST API), or a built value as JSON.
import type { Step } from '../../plan/plan.types.ts';
import type { HttpMethod } from './http/types.ts';
import { buildPath, pathLabel } from './rest-step.ts';
import { headerValues, queryPairs } from './request-values.ts';
import type { HttpResult, StepContext } from './step-context.ts';
import { WorkflowError } from './workflow-error.ts';

export async function runSendStep(step: Step, ctx: StepContext): Promise<HttpResult> {
  const client = ctx.api(step.api, step);
  const headers = headerValues(ctx.evaluate(step.headers), step.src);
  const path = buildPath(step.urlPath, (e) => ctx.evaluate(e), step.src);
  const query = queryPairs(ctx.evaluate(step.query), step.src);
  const common = { path, query, src: step.src, step: step.id, propagate: ctx.outboundHeaders };

  if (step.payload === 'message') {
    const msg = ctx.rawMessage();
    if (!msg) throw new WorkflowError('send message: the message content is no longer kept (retention)', { transient: false, src: step.src });
    const hl7 = client.api.kind === 'hl7';
    const res = await client.request({
      ...common,
      method: 'POST',
      headers: { accept: 'application/hl7-v2', ...headers, 'content-type': `application/hl7-v2; charset=${msg.charset}` },
      body: msg.raw,
      // HL7 receivers drop a resend of the same MSH-10, so forwarding the same message again is safe.
      idempotent: hl7,
      responseType: 'text',
      label: `POST ${client.api.name} (HL7 message)`,
    });
    if (hl7) checkAck(String(res.body ?? ''), client.api.name, step.src);
    return { status: res.status, headers: res.headers, body: res.body };
  }

  const method: HttpMethod = step.method ?? 'POST';
  const res = await client.request({
    ...common,
    method,
    headers: { accept: 'application/json', ...headers, 'content-type': client.api.kind === 'fhir' ? 'application/fhir+json' : 'application/json' },
    body: JSON.stringify(ctx.evaluate(step.value) ?? null),
    idempotent: method === 'PUT',
    responseType: client.api.format ?? 'json',
    label: `${method} ${client.api.name} ${pathLabel(step.urlPath)}`,
  });
  return { status: res.status, headers: res.headers, body: res.body };
}

/** AA/CA pass; AE/CE are content errors (permanent); AR/CR say "not now" and are retried. */
function checkAck(ack: string, api: string, src?: string): void {
  const msa = ack.split(/\r\n|\r|\n/).find((l) => l.startsWith('MSA'));
  if (!msa) throw new WorkflowError(`send to ${api}: the answer is not an HL7 ACK`, { transient: false, src });
  const code = msa.split(msa[3] ?? '|')[1];
  if (code === 'AA' || code === 'CA') return;
  const transient = code === 'AR' || code === 'CR';
  throw new WorkflowError(`send to ${api}: the receiver answered ${code ?? '?'}`, { transient, src });
}
