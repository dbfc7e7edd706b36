// What a step sees while it runs: the expression scope, the declared APIs, and the run.
import type { Expr, Step } from '../../plan/plan.types.ts';
import type { ApiClient } from './http/api-client.ts';
import type { RunInput } from '../journal/journal-schema.ts';
import { WorkflowError } from './workflow-error.ts';

/** The persisted result of an HTTP-shaped step (fhir, rest, send). */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The result as stored in run_steps, when cheaper to build than JSON.stringify(result). */
  stored?: string;
}

/** The stored form of a response whose body arrived as JSON text: no second serialisation. */
export function storedResult(status: number, headers: Record<string, string>, json: string | undefined): string | undefined {
  return json === undefined ? undefined : `{"status":${status},"headers":${JSON.stringify(headers)},"body":${json}}`;
}

export interface StepContext {
  runId: number;
  input: RunInput;
  evaluate(expr: Expr | undefined): unknown;
  api(name: string | undefined, step: Step): ApiClient;
  /** The inbound message's bytes, for `send message`. */
  rawMessage(): { raw: Buffer; charset: string } | null;
  /** Headers a module adds to this step's requests (trace context); see outbound-headers.ts. */
  outboundHeaders?: Record<string, string>;
}

export function requireApi(apis: Map<string, ApiClient>, name: string | undefined, step: Step): ApiClient {
  const client = name ? apis.get(name) : undefined;
  if (!client) throw new WorkflowError(`step ${step.id} uses an undeclared API ${name ?? '(none)'}`, { transient: false, src: step.src });
  return client;
}
