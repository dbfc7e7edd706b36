// Reads a request body up to a byte limit; a larger body is refused as soon as it is known to be
// too large (Content-Length, or while streaming). A client that sent `Expect: 100-continue` is
// told to go on only here, once everything that can be refused without the body has passed.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`);
  }
}

/** The client went away (or the connection was cut) before the whole body arrived. */
export class ClientAbortError extends Error {
  constructor() {
    super('the client closed the connection before the request body was received');
  }
}

export function readBody(req: IncomingMessage, limit: number, res?: ServerResponse): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  if (res && !res.headersSent && /^100-continue$/i.test(String(req.headers.expect ?? ''))) res.writeContinue();
  // The listeners stay attached once settled and ignore what follows (a refused body drains):
  // cheaper per request than removing named handlers.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', () => {
      if (settled) return;
      settled = true;
      reject(new ClientAbortError());
    });
    const abort = () => {
      if (settled) return;
      settled = true;
      reject(new ClientAbortError());
    };
    req.on('aborted', abort);
    req.on('close', abort);
  });
}
