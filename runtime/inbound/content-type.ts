// Content types accepted for HL7 v2 over HTTP, and the charset parameter of a Content-Type.
export const HL7_CONTENT_TYPES = new Set([
  'application/hl7-v2',
  'application/hl7-v2+er7',
  'x-application/hl7-v2+er7',
  'text/plain',
]);

export interface ContentType {
  /** Lower-case media type without parameters. */
  readonly type: string;
  readonly charset?: string;
}

// A partner sends the same header on every request: parsed results are kept (bounded; read-only).
const parsed = new Map<string, ContentType | null>();

export function parseContentType(header: string | undefined): ContentType | null {
  if (!header) return null;
  const known = parsed.get(header);
  if (known !== undefined) return known;
  const result = parse(header);
  if (parsed.size < 64) parsed.set(header, result);
  return result;
}

function parse(header: string): ContentType | null {
  const [typePart, ...params] = header.split(';');
  const type = typePart!.trim().toLowerCase();
  if (!type) return null;
  let charset: string | undefined;
  for (const p of params) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    if (p.slice(0, i).trim().toLowerCase() === 'charset') charset = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1') || undefined;
  }
  return charset ? { type, charset } : { type };
}

/** Node Buffer encoding for writing a response in the charset the body was read with. */
export function bufferEncodingFor(charset: string): 'utf8' | 'latin1' {
  if (charset === 'utf-8') return 'utf8';
  return /^(iso-8859-1|latin1|us-ascii|ascii)$/i.test(charset) ? 'latin1' : 'utf8';
}
