import { srcLine } from '../platform/config/source-location.ts';

/**
 * A failure while running a workflow step. `transient` failures (timeouts, 5xx, 429, connection
 * errors) make the run retry later; permanent ones (4xx, a URL escaping its API, a bad plan value)
 * send it straight to the dead letters. The message always starts with the `.hdc` line.
 */
export class WorkflowError extends Error {
  readonly transient: boolean;
  readonly src?: string;
  readonly status?: number;
  /** How long the server asked us to wait (Retry-After), when it did. */
  readonly retryAfterMs?: number;
  /** The API whose request failed: its retry policy decides the run's next attempt. */
  readonly api?: string;
  /** The step that failed (its path in the workflow), set by the executor. */
  stepPath?: string;

  constructor(
    message: string,
    opts: { transient: boolean; src?: string; status?: number; retryAfterMs?: number; api?: string; cause?: unknown },
  ) {
    super(opts.src ? `${srcLine(opts.src)}: ${message}` : message, opts.cause ? { cause: opts.cause } : undefined);
    this.name = 'WorkflowError';
    this.transient = opts.transient;
    this.src = opts.src;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.api = opts.api;
  }
}
