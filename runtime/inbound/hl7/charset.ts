// Turns a request body into text. Precedence: the Content-Type charset, then the charset the
// sender is configured with, then MSH-18 (read from the raw bytes of the MSH segment, which are
// ASCII), then UTF-8 — falling back to ISO-8859-1 when the bytes are not valid UTF-8 and nothing
// was declared.
import { isUtf8 } from 'node:buffer';
import { Hl7CharsetError } from './errors.ts';

/** HL7 table 0211 names → WHATWG/Node encodings. ISO-8859-1 and ASCII decode as exact Latin-1. */
const TABLE_0211: Record<string, string> = {
  'ASCII': 'latin1',
  'ISO IR6': 'latin1',
  '8859/1': 'latin1',
  'ISO IR100': 'latin1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  '8859/9': 'windows-1254', // WHATWG decodes ISO-8859-9 with its windows-1254 superset
  '8859/15': 'iso-8859-15',
  'ISO IR14': 'shift_jis',
  'ISO IR87': 'iso-2022-jp',
  'ISO IR159': 'iso-2022-jp',
  'GB 18030-2000': 'gb18030',
  'KS X 1001': 'euc-kr',
  'BIG-5': 'big5',
  'UNICODE': 'utf8',
  'UNICODE UTF-8': 'utf8',
  'UNICODE UTF-16': 'utf-16le',
};

/** IANA names that must decode as exact Latin-1 rather than WHATWG's windows-1252 mapping. */
const LATIN1 = new Set(['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'l1', 'us-ascii', 'ascii', 'iso_8859-1']);

// Names seen so far (MSH-18 is read per message; senders repeat one or two names). Bounded.
const resolved = new Map<string, string | undefined>();

/** Resolves a charset name (HL7 table 0211 or IANA) to an encoding, or undefined if unknown. */
export function encodingFor(name: string): string | undefined {
  if (resolved.has(name)) return resolved.get(name);
  const encoding = resolve(name);
  if (resolved.size < 64) resolved.set(name, encoding);
  return encoding;
}

function resolve(name: string): string | undefined {
  const trimmed = name.trim().replace(/^"|"$/g, '');
  const hl7 = TABLE_0211[trimmed.toUpperCase()];
  if (hl7) return hl7;
  const lower = trimmed.toLowerCase();
  if (LATIN1.has(lower)) return 'latin1';
  if (lower === 'utf-8' || lower === 'utf8') return 'utf8';
  try {
    return new TextDecoder(lower).encoding;
  } catch {
    return undefined;
  }
}

/** MSH-18 (first repetition) read from the bytes of the first MSH segment, or undefined. */
export function sniffMsh18(body: Buffer): string | undefined {
  let at = body.indexOf('MSH');
  while (at > 0 && body[at - 1] !== 0x0d && body[at - 1] !== 0x0a) at = body.indexOf('MSH', at + 1);
  if (at < 0 || at + 4 > body.length) return undefined;
  const sep = body[at + 3]!;
  let end = at;
  while (end < body.length && body[end] !== 0x0d && body[end] !== 0x0a) end++;
  let field = 2; // bytes after the first separator are MSH-2; each separator opens the next field
  let start = -1;
  for (let i = at + 4; i < end; i++) {
    if (body[i] === sep) {
      field++;
      if (field === 18) start = i + 1;
      else if (field === 19) {
        end = i;
        break;
      }
    }
  }
  if (start < 0) return undefined;
  const raw = body.subarray(start, end).toString('latin1');
  const rep = body[at + 5] === undefined ? '~' : String.fromCharCode(body[at + 5]!);
  const first = raw.split(rep)[0]!.trim();
  // A value with component or subcomponent separators is no charset name but another segment's
  // data (segments joined into MSH): ignored, so the message is refused for what is wrong with it.
  const component = String.fromCharCode(body[at + 4] ?? 0x5e);
  const subcomponent = String.fromCharCode(body[at + 7] ?? 0x26);
  if (first.includes(component) || first.includes(subcomponent)) return undefined;
  return first === '' || first === '""' ? undefined : first;
}

export interface DecodeOptions {
  contentTypeCharset?: string;
  senderCharset?: string;
}

export function decodeBody(body: Buffer, opts: DecodeOptions = {}): { text: string; charset: string } {
  let declared: { name: string; source: 'content-type' | 'sender' | 'MSH-18' } | undefined;
  if (opts.contentTypeCharset) declared = { name: opts.contentTypeCharset, source: 'content-type' };
  else if (opts.senderCharset) declared = { name: opts.senderCharset, source: 'sender' };
  else {
    const msh18 = sniffMsh18(body);
    if (msh18) declared = { name: msh18, source: 'MSH-18' };
  }
  let encoding: string;
  if (declared) {
    const e = encodingFor(declared.name);
    if (!e) {
      throw new Hl7CharsetError(`unsupported character set "${declared.name}" (from ${declared.source})`, declared.name, declared.source);
    }
    encoding = e;
  } else {
    encoding = isUtf8(body) ? 'utf8' : 'latin1';
  }
  let text: string;
  if (encoding === 'utf8' || encoding === 'latin1') text = body.toString(encoding);
  else text = new TextDecoder(encoding).decode(body);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, charset: encoding === 'utf8' ? 'utf-8' : encoding === 'latin1' ? 'iso-8859-1' : encoding };
}
