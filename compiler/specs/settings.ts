// The settings each block accepts, declared once: read by the checker (compiler/semantics/settings.ts),
// the plan writer, completion, hover and the docs, so they cannot drift apart. A module's spec
// declares its blocks' settings with the same SettingsSpec.

export type SettingKind =
  | 'string' // one string
  | 'strings' // one or more strings
  | 'value' // a deployment value: string, env() or file()
  | 'name' // a declared name
  | 'enum' // one of `options`
  | 'duration'
  | 'number'
  | 'msgtypes' // ADT^A01, ORU^*, *
  | 'positions' // PID, PID-3, OBX-3.1: segments and HL7 paths
  | 'header' // "Name" VALUE
  | 'words'; // names, strings, numbers and durations on one line (`on Patient run upsert`), read by a module's check

export interface SettingSpec {
  kind: SettingKind;
  doc: string;
  options?: readonly string[];
  required?: boolean;
  /** Holds a secret: a literal string draws HDC5001 (an error unless literal secrets are allowed). */
  secret?: boolean;
  /** `enum` settings that may be followed by a duration (ack after_workflow 10s). */
  duration?: boolean;
  repeatable?: boolean;
  /** The kinds it applies to (API kinds for api settings, identity kinds in identity's block); absent: every kind. */
  appliesTo?: readonly string[];
  /** Settings accepted in a `{ … }` block after the value. */
  block?: Record<string, SettingSpec>;
  /**
   * Completion for the value after the words already written (`words` settings): keywords to
   * offer, or the kind of declaration whose names to offer.
   */
  suggest?(before: readonly string[]): { words?: readonly string[]; declarations?: 'workflow' | 'api' | 'auth' };
  /** Hover text (Markdown) for one of the setting's values, given the values before it; undefined: none. */
  describe?(value: string, before: readonly string[]): string | undefined;
}
export type SettingsSpec = Record<string, SettingSpec>;

const secret = (doc: string, required = true): SettingSpec => ({ kind: 'value', doc, secret: true, required });
const value = (doc: string, required = false): SettingSpec => ({ kind: 'value', doc, required });

export const authSpecs: Record<string, SettingsSpec> = {
  basic: { user: value('User name.', true), password: secret('Password (env() or file()).') },
  bearer: { token: secret('A static bearer token (env() or file()).') },
  oauth2: {
    token_url: value('Token endpoint; default: discovered from the FHIR base of the API using this auth.'),
    client_id: value('OAuth2 client id.', true),
    client_secret: secret('OAuth2 client secret.'),
    client_auth: { kind: 'enum', options: ['basic', 'post'], doc: 'client_secret_basic (default) or client_secret_post.' },
    scope: { kind: 'string', doc: 'Scopes to request.' },
  },
  smart_backend: {
    token_url: value('Token endpoint; default: discovered from {FHIR base}/.well-known/smart-configuration.'),
    client_id: value('Client id registered with the FHIR server.', true),
    private_key: secret('PEM or JWK private key for private_key_jwt.'),
    alg: { kind: 'enum', options: ['RS384', 'ES384'], doc: 'JWT signing algorithm (default RS384).' },
    kid: value('Key id (the JWT header kid).'),
    scope: { kind: 'string', doc: 'SMART system scopes, e.g. "system/Patient.rs".' },
  },
};

export const apiSpec: SettingsSpec = {
  auth: { kind: 'name', doc: 'The auth block used for requests to this API.' },
  timeout: { kind: 'duration', doc: 'Per-request timeout (default 30s).' },
  retry: { kind: 'number', doc: 'Attempts in all when a request to this API fails transiently (default 5): retry 5 backoff 30s max 30m.' },
  backoff: { kind: 'duration', doc: 'Wait before the second attempt, doubling each attempt, with jitter (default 30s).' },
  max: { kind: 'duration', doc: 'Longest wait between attempts (default 30m).' },
  format: { kind: 'enum', options: ['json', 'text', 'xml'], doc: 'How response bodies are read (rest APIs; default json; xml is parsed into a navigable value).', appliesTo: ['rest'] },
  version: { kind: 'enum', options: ['R4'], doc: 'FHIR version (fhir APIs; R4).' },
  validate: { kind: 'enum', options: ['fhir', 'none'], doc: 'fhir: check request bodies against the R4 definitions before sending (fhir APIs; hdc test does by default); none: never.', appliesTo: ['fhir'] },
  header: { kind: 'header', doc: 'A header sent with every request: header "X-Key" env("KEY").', repeatable: true },
  tls: {
    kind: 'string', doc: 'Client TLS material.', block: {
      ca: value('CA bundle (PEM) to trust.'), cert: value('Client certificate (PEM).'), key: secret('Client key (PEM).', false),
    },
  },
};

export const identitySpec: SettingsSpec = {
  subject: { kind: 'string', doc: 'client_cert: the subject must contain this, e.g. "CN=labcorp-interface".', appliesTo: ['client_cert'] },
  san: { kind: 'string', doc: 'client_cert: a subjectAltName the certificate must carry.', appliesTo: ['client_cert'] },
  fingerprint: { kind: 'string', doc: 'client_cert: SHA-256 fingerprint (hex).', appliesTo: ['client_cert'] },
  user: { ...value('basic: user name.'), appliesTo: ['basic'] },
  password: { ...secret('basic: password.', false), appliesTo: ['basic'] },
};

export const senderSpec: SettingsSpec = {
  path: { kind: 'string', doc: 'HTTP path partners POST to, e.g. "/hl7/labcorp".', required: true },
  version: { kind: 'string', doc: 'HL7 version the sender uses (2.1–2.8); drives path checks.' },
  strict_version: { kind: 'enum', options: ['true', 'false'], doc: 'Answer AR (203) when MSH-12 differs from version.' },
  identity: { kind: 'enum', options: ['none', 'client_cert', 'basic'], doc: 'How the partner proves who it is.', block: identitySpec },
  accept: { kind: 'msgtypes', doc: 'Accepted message types: ADT^A01, ORU^*, or * for all.', required: true },
  processing_ids: { kind: 'strings', doc: 'Accepted MSH-11 processing ids ("P", "T", "D"); default any.' },
  line_endings: { kind: 'enum', options: ['cr', 'crlf', 'lf', 'any'], doc: 'Segment breaks accepted (default cr, the standard).' },
  charset: { kind: 'string', doc: 'Charset when Content-Type names none; wins over MSH-18.' },
  timezone: { kind: 'string', doc: 'IANA time zone of the sender\'s local times, e.g. "Europe/London": as datetime values without an offset get its offset.' },
  ack: { kind: 'enum', options: ['on_receive', 'after_workflow'], duration: true, doc: 'on_receive (default), or after_workflow TIMEOUT.' },
  max_body: { kind: 'number', doc: 'Largest accepted body in bytes (default 1 MiB).' },
  control_id_reuse: { kind: 'enum', options: ['accept', 'reject'], doc: 'A different message reusing a control ID of the same sending system: accept (default, journaled as a new message) or reject (AR).' },
  require: { kind: 'positions', doc: 'Segments and fields every message must carry, e.g. PID, PID-3; refused AE before the workflow runs.' },
};

export const workflowSpec: SettingsSpec = {
  concurrency: { kind: 'number', doc: 'Runs of this workflow executed at once.' },
  order_by: { kind: 'name', doc: 'A mapped field; runs with the same value run one at a time, in order.' },
};

export const launchSpec: SettingsSpec = {
  client_id: value('Client id registered with the EHR.', true),
  client_secret: secret('Client secret (confidential client, client_secret_basic).', false),
  private_key: secret('Private key for private_key_jwt (asymmetric client).', false),
  alg: { kind: 'enum', options: ['RS384', 'ES384'], doc: 'private_key_jwt algorithm.' },
  kid: value('Key id.'),
  scope: { kind: 'string', doc: 'Scopes, e.g. "launch openid fhirUser patient/Patient.rs".', required: true },
  issuers: { kind: 'strings', doc: 'FHIR bases allowed as iss on EHR launch.' },
  standalone: value('FHIR base for standalone launch (/smart/NAME/start).'),
  redirect_uri: value('Registered redirect_uri; default {public URL}/smart/NAME/callback.'),
  targets: { kind: 'strings', doc: 'The https URLs redirect rules may send the browser to.' },
  sign: { kind: 'value', secret: true, duration: true, doc: 'Sign redirect parameters: sign env("KEY") 5m.' },
  session_key: secret('Key sealing launch sessions between requests (default: random per process).', false),
};

export const loginSpecs: Record<string, SettingsSpec> = {
  oidc: {
    issuer: value('The IdP issuer URL (discovery).', true),
    client_id: value('Client id at the IdP.', true),
    client_secret: secret('Client secret at the IdP.', false),
    scope: { kind: 'string', doc: 'Scopes (default "openid profile email").' },
  },
  ldap: {
    url: value('ldaps:// URL (ldap:// on loopback only).', true),
    bind_dn: { kind: 'string', doc: 'DN template with {username}.', required: true },
  },
  users: {},
  postgres: {
    url: secret('Connection string.'),
    query: { kind: 'string', doc: 'Parameterised query ($1 = username) returning password_hash.', required: true },
  },
};
