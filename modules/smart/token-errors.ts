// What went wrong in the code exchange, said so that the log explains it and the page fits the
// class of failure. openid-client wraps its checks' failures ("invalid response encountered");
// the underlying check (an RFC 9207 mix-up, an id_token claim, the JWKS) is in the cause chain.
// Logged values are issuer URLs, claim names and error codes — never codes, tokens or claims
// that could identify a patient.
import * as oidc from 'openid-client';
import { LaunchError } from './launch-error.ts';
import { IdTokenSignatureError } from './id-token-keys.ts';

export const MIX_UP_TEXT = 'The sign-in answer did not come from the server that started this launch. Start again from your EHR.';

export function tokenError(err: unknown, src: string): LaunchError {
  if (err instanceof oidc.ResponseBodyError) {
    return new LaunchError(`token endpoint answered ${err.status} ${err.error}${describeText(err.error_description)}`, { status: 502, src });
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const error = err.cause[0]?.parameters.error;
    return new LaunchError(`token endpoint answered ${err.status}${error ? ` ${error}` : ''} (${err.cause[0]?.scheme ?? 'challenge'})`, { status: 502, src });
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return new LaunchError(`authorization response refused: ${err.error}${describeText(err.error_description)}`, { status: err.error === 'access_denied' ? 403 : 400, src });
  }
  if (err instanceof IdTokenSignatureError) return new LaunchError(err.message, { status: 502, src, cause: err.cause });
  const inner = innermost(err);
  const detail = inner?.cause as { expected?: unknown; claim?: unknown; claims?: Record<string, unknown>; parameters?: URLSearchParams } | undefined;
  if (inner && /"iss" \(issuer\) response parameter/.test(inner.message)) {
    const got = detail?.parameters instanceof URLSearchParams ? detail.parameters.get('iss') : null;
    return new LaunchError(
      `mix-up refused (RFC 9207): the callback's iss ${got === null ? '(absent)' : JSON.stringify(origin(got))} is not the EHR's issuer ${JSON.stringify(String(detail?.expected ?? '?'))}`,
      { status: 400, src, publicText: MIX_UP_TEXT },
    );
  }
  if (inner && typeof detail?.claim === 'string') {
    const claim = detail.claim;
    const got = claim === 'iss' || claim === 'aud' ? ` (got ${JSON.stringify(detail.claims?.[claim])})` : '';
    const hint = claim === 'iss' ? '; the EHR names no issuer in its smart-configuration, its authorization server metadata or the callback (RFC 9207 iss)' : '';
    return new LaunchError(`id_token refused: ${inner.message}: expected ${JSON.stringify(detail.expected)}${got}${hint}`, { status: 502, src });
  }
  const code = (err as { code?: string })?.code;
  const why = inner && inner !== err ? `: ${inner.message}` : '';
  return new LaunchError(`token exchange failed: ${code ?? (err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? ''}${why}`.slice(0, 400), { status: 502, src, cause: err });
}

/** The deepest Error in the cause chain (openid-client → oauth4webapi). */
function innermost(err: unknown): Error | undefined {
  let e = err instanceof Error ? err : undefined;
  for (let i = 0; i < 5 && e?.cause instanceof Error; i++) e = e.cause;
  return e;
}

function origin(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return '(not a URL)';
  }
}

/** An error_description from a server, made safe for one log line. */
export function describeText(text: unknown): string {
  if (typeof text !== 'string' || !text) return '';
  return ` (${text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 160)})`;
}
