// Server-side timing of the SMART routes: how long a request spent in the connector itself, as
// the handler's wall time minus the time it awaited peers (discovery, token endpoint, IdP, LDAP,
// FHIR). The benchmark reads the totals to report the connector's own share per launch.
export interface SmartTimingTotals {
  requests: number;
  totalMs: number;
  peerMs: number;
  completed: number;
  failed: number;
}

export class RequestTiming {
  private readonly started = performance.now();
  peerMs = 0;

  /** Awaits a peer call, adding its duration to the peer time. */
  async peer<T>(p: Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await p;
    } finally {
      this.peerMs += performance.now() - t0;
    }
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }
}
