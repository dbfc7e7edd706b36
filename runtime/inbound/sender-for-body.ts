// Which sender's policy (charset, line_endings, body limit) decodes a body when several senders
// share a path. The MSH is read before any decoding, as ISO-8859-1: its first fields are ASCII in
// every ASCII-compatible charset, so MSH-3..12 read the same whatever the body's charset turns out
// to be. The sender whose MSH predicates hold for it wins; the first one when none does (the
// message is then refused as not recognised) or when the MSH cannot be read.
import { parseMessage } from './hl7/index.ts';
import { mshMatches, type SenderEntry } from './sender-directory.ts';

/** The first MSH segment's bytes (at the start or after a line break), as ISO-8859-1 text. */
function firstMsh(body: Buffer): string | undefined {
  let at = body.indexOf('MSH');
  while (at > 0 && body[at - 1] !== 0x0d && body[at - 1] !== 0x0a) at = body.indexOf('MSH', at + 1);
  if (at < 0) return undefined;
  let end = at;
  while (end < body.length && body[end] !== 0x0d && body[end] !== 0x0a) end++;
  return body.toString('latin1', at, end);
}

export function senderForBody(body: Buffer, candidates: SenderEntry[]): SenderEntry {
  const first = candidates[0]!;
  if (candidates.length === 1) return first;
  const text = firstMsh(body);
  if (text === undefined) return first;
  try {
    const msh = parseMessage(text);
    return candidates.find((c) => mshMatches(c.sender, msh)) ?? first;
  } catch {
    return first;
  }
}
