// When to try a request again, and how long to wait first.

/** Statuses worth another attempt: the server was overloaded, down or slow, not the request wrong. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Answers that say the server refused the request without processing it, so even a POST or PATCH
 * may be sent again: 429 (RFC 6585: rate limited), and 503 with Retry-After (RFC 9110: the server
 * is down for maintenance and says when to come back). A bare 503, 500/502/504 or a timeout after
 * sending is ambiguous: the request may have been processed.
 */
export function isRefusedUnprocessed(status: number, retryAfter: string | undefined): boolean {
  return status === 429 || (status === 503 && retryAfter !== undefined && retryAfter.trim() !== '');
}

/** An API's retry policy: attempts in all (the first included), first wait, longest wait. */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  maxBackoffMs?: number;
}

/** Defaults when an api declares no `retry`, `backoff` or `max`. */
export const DEFAULT_RETRY = { attempts: 5, backoffMs: 30_000, maxBackoffMs: 30 * 60_000 } as const;

/**
 * The wait before the attempt after the nth failed one: backoff·2^(n-1) with jitter (×0.5–1.5),
 * never longer than the policy's max; a server's Retry-After is honoured as the least wait.
 */
export function nextRetryDelay(policy: RetryPolicy, failed: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const max = policy.maxBackoffMs ?? DEFAULT_RETRY.maxBackoffMs;
  const wait = Math.min(max, backoffDelay(failed, policy.backoffMs, random));
  return Math.max(wait, retryAfterMs ?? 0);
}

/** Retry-After as delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Exponential backoff with jitter: the nth retry waits backoffMs·2^(n-1), scaled by 0.5–1.5. */
export function backoffDelay(retry: number, backoffMs: number, random: () => number = Math.random): number {
  return Math.round(backoffMs * 2 ** (retry - 1) * (0.5 + random()));
}
