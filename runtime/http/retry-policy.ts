// When to try a request again, and how long to wait first.

/** Statuses worth another attempt: the server was overloaded, down or slow, not the request wrong. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Statuses that say the server refused the request without processing it (RFC 6585 429, RFC 9110
 * 503), so even a POST may be sent again. A 500/502/504 or a timeout after sending is ambiguous.
 */
export function isRefusedUnprocessed(status: number): boolean {
  return status === 429 || status === 503;
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
