// A launch that cannot go on. `message` is for the log (never PHI or tokens) and starts with the
// `.hdc` line when the failure comes from a plan node; `publicText` is what the browser's error
// page says.
import { srcLine } from '../../runtime/platform/config/source-location.ts';

export interface LaunchErrorOptions {
  status: number;
  /** Plan node behind the failure (launch block, step, rule). */
  src?: string;
  /** Shown on the error page; default by status. */
  publicText?: string;
  cause?: unknown;
}

export class LaunchError extends Error {
  readonly status: number;
  readonly src?: string;
  readonly publicText: string;

  constructor(message: string, opts: LaunchErrorOptions) {
    super(opts.src ? `${srcLine(opts.src)}: ${message}` : message, opts.cause ? { cause: opts.cause } : undefined);
    this.name = 'LaunchError';
    this.status = opts.status;
    this.src = opts.src;
    this.publicText = opts.publicText ?? defaultText(opts.status);
  }
}

function defaultText(status: number): string {
  if (status === 400) return 'The sign-in request was not valid. Start again from your EHR.';
  if (status === 403) return 'Access was not granted.';
  if (status === 410) return 'This sign-in has expired or was already used. Start again from your EHR.';
  if (status === 429) return 'Too many attempts. Wait a few minutes and try again.';
  if (status === 502 || status === 504) return 'A server the connector depends on did not answer as expected. Try again later.';
  return 'The launch could not be completed.';
}

export const UNKNOWN_LAUNCH_TEXT = 'The EHR did not recognise this launch (it may have expired). Open the app again from the EHR.';
export const SCOPE_REFUSED_TEXT = 'The EHR did not grant this app access to data it needs. Trying again will not help: ask your administrator to grant the access.';
