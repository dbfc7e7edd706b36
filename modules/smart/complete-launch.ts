// The part of a launch after the handshake and the login: the `fetch` steps against the launching
// FHIR server with the launch's access token (through the engine's FHIR step and HTTP client, so
// paging, retries and URL confinement are the workflows' own), the `map` into `data`, and the
// redirect rules. `hdc test` runs this same code with a mocked transport.
import type { Expr, Launch, Step, Value } from '../../plan/plan.types.ts';
import type { AuthProvider } from '../../runtime/workflows/auth/auth-provider.ts';
import { runFhirStep } from '../../runtime/workflows/fhir-step.ts';
import type { StepContext } from '../../runtime/workflows/step-context.ts';
import { WorkflowError } from '../../runtime/workflows/workflow-error.ts';
import { evaluate } from '../../runtime/workflows/expr/evaluate.ts';
import { truthy } from '../../runtime/workflows/expr/values.ts';
import { ApiClient, type ApiClientOptions, type ResolvedApi } from '../../runtime/workflows/http/api-client.ts';
import type { Transport } from '../../runtime/workflows/http/types.ts';
import { LaunchError, SCOPE_REFUSED_TEXT } from './launch-error.ts';
import { chooseRedirect, type RedirectChoice } from './redirect-rules.ts';

export interface CompleteLaunchInput {
  launch: Launch;
  fhirBase: string;
  /** Supplies `Authorization: Bearer …` (and refreshes it when the launch has a refresh token). */
  auth: AuthProvider;
  transport: Transport;
  context: Record<string, unknown>;
  user: Record<string, unknown> | null;
  /** The scopes the EHR granted (`scopes.granted`, `has_scope(…)`); default the block's scope. */
  granted?: string;
  signingSecret?: string;
  secrets?: (v: Value) => string;
  timeoutMs?: number;
  now?: number;
  /** HTTP client options (`hdc test`: no waiting between retries, request observation). */
  client?: ApiClientOptions;
}

export interface CompletedLaunch extends RedirectChoice {
  data: unknown;
}

/** Launch fetches are reads: retried like any idempotent request, briefly (a person is waiting). */
const RETRY = { attempts: 2, backoffMs: 200 };

export async function completeLaunch(input: CompleteLaunchInput): Promise<CompletedLaunch> {
  const { launch } = input;
  const api: ResolvedApi = {
    name: `launch ${launch.name}`,
    kind: 'fhir',
    baseUrl: input.fhirBase,
    headers: {},
    timeoutMs: input.timeoutMs ?? 20_000,
    retry: RETRY,
    src: launch.src,
  };
  const client = new ApiClient(api, input.transport, input.auth, input.client);
  const vars: Record<string, unknown> & { $meta: Record<string, unknown> } = {
    context: input.context,
    user: input.user,
    // The scopes the EHR granted (it may grant less than asked), for `scopes.granted` and has_scope(…).
    scopes: { granted: words(input.granted ?? launchScopeWords(launch)), requested: launchScopeWords(launch) },
    $meta: {},
  };
  const scope = { vars, ...(input.secrets ? { secrets: input.secrets } : {}) };
  const ev = (expr: Expr | undefined): unknown => (expr ? evaluate(expr, scope) : null);
  const ctx: StepContext = {
    // Launch fetches are not journaled runs: no run id, no inbound message.
    runId: 0,
    input: { fields: {}, message: { type: '', trigger: '', controlId: '', version: '', receivedAt: 0, sender: '' } },
    evaluate: ev,
    api: () => client,
    rawMessage: () => null,
  };
  try {
    await walk(launch.fetch, ctx, vars);
  } catch (err) {
    if (err instanceof LaunchError) throw err;
    // A refused scope is not cured by trying again: its own status and page.
    if (err instanceof WorkflowError && err.status === 403) {
      throw new LaunchError(`${err.message} (the EHR refused the read: a scope it did not grant?)`, { status: 403, publicText: SCOPE_REFUSED_TEXT, cause: err });
    }
    // WorkflowError messages already start with the step's .hdc line.
    const message = err instanceof WorkflowError ? err.message : `fetch failed: ${(err as Error)?.message ?? err}`;
    throw new LaunchError(message, { status: 502, publicText: 'The patient data could not be read from the EHR. Try again later.', cause: err });
  }
  const data = launch.map ? ev(launch.map) : null;
  vars.data = data;
  const choice = chooseRedirect(launch, { evaluate: ev, signingSecret: input.signingSecret, now: input.now });
  return { ...choice, data };
}

async function walk(steps: Step[], ctx: StepContext, vars: Record<string, unknown> & { $meta: Record<string, unknown> }): Promise<void> {
  for (const step of steps) {
    switch (step.kind) {
      case 'fhir': {
        if (step.interaction !== 'read' && step.interaction !== 'search') {
          throw new LaunchError(`launch fetches only read and search, not ${step.interaction}`, { status: 500, src: step.src });
        }
        let res: Awaited<ReturnType<typeof runFhirStep>>;
        try {
          res = await runFhirStep(step, ctx);
        } catch (err) {
          // `optional`: a refused (403) or absent (404) resource is null, the launch goes on.
          if (!step.optional || !(err instanceof WorkflowError) || (err.status !== 403 && err.status !== 404)) throw err;
          if (step.named) {
            vars[step.var ?? step.id] = null;
            vars.$meta[step.var ?? step.id] = { status: err.status, headers: {} };
          }
          break;
        }
        if (step.named) {
          vars[step.var ?? step.id] = res.body;
          vars.$meta[step.var ?? step.id] = { status: res.status, headers: res.headers };
        }
        break;
      }
      case 'let':
        vars[step.var ?? step.id] = ctx.evaluate(step.value) ?? null;
        break;
      case 'if':
        await walk((truthy(ctx.evaluate(step.cond)) ? step.then : step.else) ?? [], ctx, vars);
        break;
      default:
        throw new LaunchError(`a ${step.kind} step cannot run in a launch`, { status: 500, src: step.src });
    }
  }
}

function words(text: string | string[]): string[] {
  return Array.isArray(text) ? text : text.split(/\s+/).filter(Boolean);
}

function launchScopeWords(launch: Launch): string[] {
  return words(launch.scope);
}
