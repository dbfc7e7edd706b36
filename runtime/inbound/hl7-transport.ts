// The HTTP side of HL7 v2 over HTTP, up to a list of message texts: POST only → the identity
// (client certificate, Basic credentials) narrows the senders → content type → body (limit, early
// 413) → the sender found from the first MSH (read ASCII-compatibly) sets the body limit, charset
// and segment breaks → decode → split. Transport problems are answered here with a non-2xx status
// and a text/plain body (401, 405, 413, 415, 400) and one log line with a stable reason code.
import type { Context } from 'koa';
import type { TLSSocket } from 'node:tls';
import type { Sender } from '../../plan/plan.types.ts';
import { decodeBody, Hl7CharsetError, splitBatch } from './hl7/index.ts';
import type { Logger } from '../platform/log/logger.ts';
import { peerCertificateProblem, verifiedPeerCertificate } from '../platform/tls/client-identity.ts';
import { parseBasicAuth } from './basic-auth.ts';
import { HL7_CONTENT_TYPES, parseContentType } from './content-type.ts';
import { readBody, BodyTooLargeError, ClientAbortError } from './read-body.ts';
import { logClientAbort, logRefusal, wasRefused, type RefusalReason } from './refusal.ts';
import { lingerBeforeClose } from './linger.ts';
import { LARGE_BODY_BYTES, yieldToEventLoop } from './fair-share.ts';
import type { Refusal } from './acceptance.ts';
import { undeclaredBreakRefusal } from './message-structure.ts';
import { senderForBody } from './sender-for-body.ts';
import { identityAllows, type SenderEntry, type RequestIdentity } from './sender-directory.ts';

export interface TransportDeps {
  log: Logger;
  /** Body limit when the sender sets none. */
  maxBodyBytes: number;
}

/** A transport-level refusal: its log line (reason code, path, peer; no content) and the answer. */
export type RefuseRequest = (status: number, reason: RefusalReason, text: string) => void;

/** A request whose body is HL7 text, split into messages. */
export interface Hl7Request {
  body: Buffer;
  /** The request's Content-Type charset, when it named one. */
  contentTypeCharset: string | undefined;
  contentType: string;
  decoded: { text: string; charset: string };
  split: ReturnType<typeof splitBatch>;
  /** The senders the request's identity allows. */
  allowed: SenderEntry[];
  /** The sender whose decoding rules applied to the body. */
  policy: Sender;
  /** Breaks the sender does not accept: every message is refused with this. */
  undeclared: Refusal | null;
  receivedAt: number;
  /** Whether the body is large enough to share the event loop around single steps. */
  large: boolean;
  refuse: RefuseRequest;
}

function isBlank(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

/** A transport-level answer: non-2xx, text/plain. */
function plain(ctx: Context, status: number, text: string): void {
  ctx.status = status;
  ctx.set('Content-Type', 'text/plain; charset=utf-8');
  ctx.body = text + '\n';
}

/** Reads the request up to its messages' texts; undefined when it was answered (refused) here. */
export async function receiveHl7Request(ctx: Context, candidates: SenderEntry[], deps: TransportDeps): Promise<Hl7Request | undefined> {
  const { log } = deps;
  const socket = ctx.req.socket as TLSSocket;
  let senderName: string | undefined;
  const refuse: RefuseRequest = (status, reason, text) => {
    logRefusal(log, { status, reason, path: ctx.path, sender: senderName, socket });
    // Refused before "100 Continue": the client may or may not send the body now, so the
    // connection cannot be reused.
    if (ctx.req.headers.expect && !ctx.req.complete) ctx.set('Connection', 'close');
    plain(ctx, status, text);
  };
  if (ctx.method !== 'POST') {
    ctx.set('Allow', 'POST');
    return void refuse(405, 'method-not-allowed', 'method not allowed: POST HL7 v2 messages here');
  }
  const who: RequestIdentity = {
    certificate: socket.encrypted ? verifiedPeerCertificate(socket) : null,
    basic: parseBasicAuth(ctx.get('authorization') || undefined),
  };
  const allowed = candidates.filter((c) => identityAllows(c, who));
  if (allowed.length === 0) {
    const wantsBasic = candidates.some((c) => c.sender.identity.kind === 'basic');
    if (wantsBasic) ctx.set('WWW-Authenticate', 'Basic realm="hdc", charset="UTF-8"');
    const wantsCert = candidates.some((c) => c.sender.identity.kind === 'client_cert');
    const problem = wantsCert && who.certificate === null ? peerCertificateProblem(socket) : null;
    if (problem && (who.basic === null || !wantsBasic)) return void refuse(401, problem.reason, problem.text);
    if (who.certificate === null && who.basic === null) {
      return void refuse(401, 'identity-missing',
        `authentication required${wantsCert ? ': a client certificate issued by the configured CA' : ''}${wantsBasic ? `${wantsCert ? ' or' : ':'} Basic credentials` : ''}`);
    }
    return void refuse(401, who.basic !== null && wantsBasic ? 'credentials-not-accepted' : 'certificate-not-accepted',
      'the credentials presented are not accepted for this endpoint');
  }
  if (allowed.length === 1) senderName = allowed[0]!.sender.name;
  const contentType = parseContentType(ctx.get('content-type') || undefined);
  if (!contentType || !HL7_CONTENT_TYPES.has(contentType.type)) {
    return void refuse(415, 'content-type', `unsupported content type "${ctx.get('content-type')}": use ${[...HL7_CONTENT_TYPES].join(', ')}`);
  }
  let limit = 0;
  for (const c of allowed) limit = Math.max(limit, c.sender.maxBodyBytes ?? deps.maxBodyBytes);
  let body: Buffer;
  try {
    body = await readBody(ctx.req, limit, ctx.res);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      // The client may still be sending: the answer goes out first, then the connection closes
      // once the client stops (or after a short linger), so the 413 is read rather than reset.
      ctx.set('Connection', 'close');
      lingerBeforeClose(socket);
      return void refuse(413, 'body-too-large', err.message);
    }
    if (err instanceof ClientAbortError) {
      if (!wasRefused(socket)) logClientAbort(log, ctx.path, socket);
      ctx.respond = false;
      return undefined;
    }
    throw err;
  }
  const receivedAt = Date.now();
  if (isBlank(body)) return void refuse(400, 'body-empty', 'empty body: expected an HL7 v2 message');

  // Each sender's own decoding: the sender is found from the MSH (read ASCII-compatibly), then
  // its body limit, charset and segment breaks apply.
  const policy = senderForBody(body, allowed).sender;
  const bodyLimit = policy.maxBodyBytes ?? deps.maxBodyBytes;
  if (body.length > bodyLimit) return void refuse(413, 'body-too-large', `request body exceeds the limit of ${bodyLimit} bytes for this sender`);
  // Decoding and splitting a large body are single steps: other requests get a turn around them.
  const large = body.length > LARGE_BODY_BYTES;
  let decoded: { text: string; charset: string };
  try {
    decoded = decodeBody(body, { contentTypeCharset: contentType.charset, senderCharset: policy.charset });
  } catch (err) {
    if (err instanceof Hl7CharsetError) {
      return void (err.source === 'content-type' ? refuse(415, 'charset', err.message) : refuse(400, 'charset-undecodable', err.message));
    }
    throw err;
  }
  if (large) await yieldToEventLoop();
  let split = splitBatch(decoded.text, policy.segmentBreaks);
  // Breaks the sender does not accept: every message is refused, each answered with its own
  // header, read with any breaks so the ACK does not echo a header that swallowed the message.
  const undeclared = split.undeclared ? undeclaredBreakRefusal(split.undeclared, policy.segmentBreaks) : null;
  if (undeclared) split = splitBatch(decoded.text, 'any');
  if (large) await yieldToEventLoop();
  if (split.messages.length === 0) return void refuse(400, 'not-hl7', 'not an HL7 v2 message: no MSH segment');
  if (split.batch?.countMismatches) log.warn({ path: ctx.path, sender: policy.name, counts: split.batch.countMismatches }, 'batch trailer counts do not match the messages received');
  return {
    body, contentTypeCharset: contentType.charset, contentType: contentType.type, decoded, split, allowed, policy, undeclared, receivedAt, large, refuse,
  };
}
