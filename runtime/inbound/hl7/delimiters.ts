/** The separators a message declares in MSH-1 and MSH-2. */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** v2.7+: the fifth encoding character, marking a value truncated by the sender. */
  truncation?: string;
}

export const defaultDelimiters: Delimiters = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
};

/** Rebuilds delimiters from MSH-1 and the MSH-2 text (as stored in a header). */
export function delimitersFrom(fieldSep: string, encodingChars: string): Delimiters {
  const d: Delimiters = {
    field: fieldSep || '|',
    component: encodingChars[0] ?? '^',
    repetition: encodingChars[1] ?? '~',
    escape: encodingChars[2] ?? '\\',
    subcomponent: encodingChars[3] ?? '&',
  };
  if (encodingChars.length > 4) d.truncation = encodingChars[4];
  return d;
}

/** MSH-2 as written back into a message built with these delimiters. */
export function encodingCharsOf(d: Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}
