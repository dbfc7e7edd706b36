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

/** `auth NAME KIND { … }`: how requests to an API authenticate (compiler/specs/settings.ts authSpecs gives each kind's settings). */
export const authKinds = {
  basic: 'HTTP Basic authentication: user and password on every request.',
  bearer: 'A static bearer token sent as Authorization: Bearer.',
  oauth2: 'OAuth 2.0 client credentials: a token from the token endpoint, renewed before it expires.',
  smart_backend: 'SMART Backend Services: a client assertion signed with the private key (private_key_jwt) exchanged for a token.',
} as const;

/** `api NAME KIND "base URL"`: what kind of server it is. */
export const apiKinds = {
  fhir: 'A FHIR R4 server: read, search, create, update, patch and delete with resource types checked.',
  rest: 'A REST/HTTP API: get, post, put, patch and delete with paths, query, headers and a declared response.',
  hl7: 'An HL7 v2 receiver over HTTP(S): send message forwards the received message.',
} as const;

/** `env("NAME")` and `file("path")`. */
export const valueFunctionDocs = {
  env: 'A value read from the environment when the runtime starts (env("NAME", "default") gives a default); secrets are kept out of the plan.',
  file: 'A file\'s contents, read when the runtime starts (a key, a certificate); in a test, a message fixture. Paths are relative to the file that names them.',
} as const;

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
  scopes: 'The launch\'s scopes: granted (what the EHR granted) and requested (the block\'s scope).',
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
