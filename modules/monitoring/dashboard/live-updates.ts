// Server-sent events for the overview: an "update" event at most once a second after the rollups
// took in new traffic (the page then fetches the overview again), and a comment every 15 s that
// keeps proxies from closing an idle stream.
import type { ServerResponse } from 'node:http';

export class LiveUpdates {
  private readonly clients = new Set<ServerResponse>();
  private last = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly minIntervalMs = 1000) {
    this.heartbeat = setInterval(() => this.send(': keep-alive\n\n'), 15_000);
    this.heartbeat.unref();
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Something changed: tell every page, throttled. */
  changed(): void {
    if (!this.clients.size || this.pending) return;
    const wait = Math.max(0, this.last + this.minIntervalMs - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.last = Date.now();
      this.send(`event: update\ndata: ${this.last}\n\n`);
    }, wait);
    this.pending.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  private send(text: string): void {
    for (const c of this.clients) c.write(text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.pending) clearTimeout(this.pending);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
