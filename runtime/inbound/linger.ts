// Closing a connection on which the client is still sending (a refused body) with unread data in
// the receive buffer makes the kernel answer with a reset, and a reset can discard the refusal
// before the client has read it. So the write side is ended first (the answer, then FIN) and the
// rest of what the client sends is read and dropped until it closes, or for LINGER_MS at most.
import type { Socket } from 'node:net';

export const LINGER_MS = 2000;

/** Makes the HTTP server's close-after-response of this connection a lingering close. */
export function lingerBeforeClose(socket: Socket, ms = LINGER_MS): void {
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), ms);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    // The HTTP parser keeps reading and discarding the refused body; once the client has closed
    // its side too, nothing more will come.
    this.once('end', () => this.destroy());
  };
}
