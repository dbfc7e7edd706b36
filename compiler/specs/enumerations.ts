// The language's closed sets of words, declared once: checks, completion, hover and the docs read
// them from here.

/** HL7 acknowledgement codes (MSA-1): original mode A*, enhanced mode C*. */
export const ackCodes = {
  AA: 'Application accept: the message was processed.',
  AE: 'Application error: the content is wrong.',
  AR: 'Application reject: refused for a reason unrelated to the content.',
  CA: 'Commit accept (enhanced mode).',
  CE: 'Commit error (enhanced mode).',
  CR: 'Commit reject (enhanced mode).',
} as const;
export type AckCode = keyof typeof ackCodes;

/** What `reject CODE "text"` may answer with. */
export const rejectCodes = ['AE', 'AR'] as const satisfies readonly AckCode[];

/** `as CONVERSION` on a mapped field. */
export const conversions = {
  string: 'The text as written (the default).',
  number: 'A number, or null when the text is not one.',
  date: 'An ISO 8601 date (precision kept) from HL7 DT/DTM/TS.',
  datetime: 'An ISO 8601 date-time (precision kept) from HL7 DTM/TS, in the sender\'s time zone.',
  raw: 'The field with its HL7 escapes and separators untouched.',
  list: 'Every repetition a [*] path reads, also with where.',
} as const;
export type Conversion = keyof typeof conversions;

/** Names a block provides without a declaration, with what they hold. */
export const builtins = {
  message: 'The received message: type, trigger, controlId, version, receivedAt, sender.',
  context: 'The SMART launch context: patient, encounter, fhirContext, intent, tenant, ….',
  user: 'The logged-in user (the login block\'s map).',
  claims: 'The login id_token\'s (or directory entry\'s) claims.',
  data: 'The launch\'s map block.',
  value: 'The value under test.',
  request: 'The recorded request: method, path, query, headers, body.',
  records: 'The stored records.',
  url: 'The redirect URL.',
  params: 'The redirect query parameters.',
} as const;

/** Builtins by the block that provides them. */
/** The fields of builtins that are records (`message.controlId`): the checker and completion read them here. */
export const builtinFields = {
  message: ['type', 'trigger', 'controlId', 'version', 'receivedAt', 'sender'],
} as const satisfies Partial<Record<keyof typeof builtins, readonly string[]>>;

export const builtinsIn = {
  workflow: ['message'],
  launch: ['context', 'user', 'claims', 'data'],
} as const;

/** Collection names for `store … in "NAME"`. */
export const collectionNamePattern = /^[A-Za-z0-9_.-]+$/;
