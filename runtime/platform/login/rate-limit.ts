// Failed-login throttling for the connector's login form: a fixed window per client address and
// per (address, user name). Only failures count; a success clears the pair's count. In memory:
// one runtime process serves a login from start to end.
export interface RateLimitOptions {
  windowMs?: number;
  /** Failures allowed per address and user name in a window. */
  perUser?: number;
  /** Failures allowed per address in a window (many names from one place). */
  perAddress?: number;
  now?: () => number;
}

export class LoginRateLimiter {
  private readonly counts = new Map<string, { start: number; n: number }>();
  private readonly windowMs: number;
  private readonly perUser: number;
  private readonly perAddress: number;
  private readonly now: () => number;

  constructor(opts: RateLimitOptions = {}) {
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.perUser = opts.perUser ?? 5;
    this.perAddress = opts.perAddress ?? 20;
    this.now = opts.now ?? Date.now;
  }

  private count(key: string): number {
    const c = this.counts.get(key);
    if (!c || this.now() - c.start >= this.windowMs) return 0;
    return c.n;
  }

  /** True when another attempt from this address for this user is allowed now. */
  allowed(address: string, username: string): boolean {
    return this.count(`a:${address}`) < this.perAddress && this.count(`u:${address}:${username.toLowerCase()}`) < this.perUser;
  }

  failed(address: string, username: string): void {
    if (this.counts.size > 10_000) this.sweep();
    for (const key of [`a:${address}`, `u:${address}:${username.toLowerCase()}`]) {
      const c = this.counts.get(key);
      if (!c || this.now() - c.start >= this.windowMs) this.counts.set(key, { start: this.now(), n: 1 });
      else c.n++;
    }
  }

  succeeded(address: string, username: string): void {
    this.counts.delete(`u:${address}:${username.toLowerCase()}`);
  }

  private sweep(): void {
    for (const [k, c] of this.counts) if (this.now() - c.start >= this.windowMs) this.counts.delete(k);
  }
}
