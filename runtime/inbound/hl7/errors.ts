/** The text is not an HL7 v2 message (no MSH first, unusable delimiters). Line and column are 1-based. */
export class Hl7ParseError extends Error {
  override readonly name = 'Hl7ParseError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly segment?: string,
  ) {
    super(message);
  }
}

/** A declared character set this runtime cannot decode. */
export class Hl7CharsetError extends Error {
  override readonly name = 'Hl7CharsetError';
  constructor(
    message: string,
    readonly charset: string,
    readonly source: 'content-type' | 'sender' | 'MSH-18',
  ) {
    super(message);
  }
}
