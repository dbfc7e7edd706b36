// Content types accepted for HL7 v2 over HTTP, and the charset parameter of a Content-Type.
export const HL7_CONTENT_TYPES = new Set([
  'application/hl7-v2',
  'application/hl7-v2+er7',
  'x-application/hl7-v2+er7',
  'text/plain',
]);

export interface ContentType {
  /** Lower-case media type without parameters. */
  type: string;
  charset?: string;
}

export function parseContentType(header: string | undefined): ContentType | null {
  if (!header) return null;
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
  return /^(iso-8859-1|latin1|us-ascii|ascii)$/i.test(charset) ? 'latin1' : 'utf8';
}
