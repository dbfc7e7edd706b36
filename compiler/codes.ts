// Every diagnostic code the compiler emits: its usual severity and what it means. The table of
// codes in docs/language.md is generated from it (npm run gen), and test/compiler/cases holds at
// least one case per code (test/compiler/spec-coverage.test.ts).
import type { Severity } from './diagnostics.ts';

export interface CodeSpec {
  /** The severity it is usually reported with (some codes are reported lower where noted). */
  severity: Severity;
  /** One line: what the code means. */
  summary: string;
}

export const diagnosticCodes = {
  // 1xxx: syntax
  HDC1000: { severity: 'error', summary: 'Internal compiler error: the compiler failed on this file (please report it).' },
  HDC1001: { severity: 'error', summary: 'Unexpected token: the parser expected something else here.' },
  HDC1002: { severity: 'error', summary: 'Unterminated block: a `{` has no matching `}`.' },
  HDC1003: { severity: 'error', summary: 'Invalid character or token the lexer does not know.' },
  HDC1004: { severity: 'error', summary: 'Invalid string: bad escape or unbalanced `{…}` interpolation.' },
  HDC1005: { severity: 'error', summary: 'Invalid HL7 path syntax.' },
  HDC1006: { severity: 'error', summary: 'The formatter could not reproduce the file faithfully; the file is left as it is.' },
  HDC1010: { severity: 'error', summary: 'A stray `{` where a statement, setting or field should start.' },
  // 2xxx: names and settings
  HDC2001: { severity: 'error', summary: 'Unknown name (auth, API, sender, workflow, launch, step or variable).' },
  HDC2002: { severity: 'error', summary: 'Duplicate declaration.' },
  HDC2003: { severity: 'error', summary: 'A variable is used before the step that defines it.' },
  HDC2004: { severity: 'error', summary: 'Imported file not found or unreadable.' },
  HDC2005: { severity: 'error', summary: 'Unknown setting for this block.' },
  HDC2006: { severity: 'error', summary: 'A required setting is missing.' },
  HDC2008: { severity: 'warning', summary: 'A workflow is never run: no sender routes a message type to it.' },
  HDC2009: { severity: 'error', summary: 'Unknown function.' },
  HDC2010: { severity: 'error', summary: 'Wrong number of arguments to a function.' },
  HDC2011: { severity: 'error', summary: 'An API of the wrong kind for this step.' },
  HDC2020: { severity: 'error', summary: 'A `let` names a variable that is already defined; assign it with `name = value` instead.' },
  HDC2021: { severity: 'error', summary: 'A name defined inside an `if` branch is used after the `if` without a test that it is set.' },
  HDC2022: { severity: 'error', summary: 'An assignment to a name that is not a `let` variable.' },
  HDC2040: { severity: 'error', summary: 'A setting written with a `{ … }` block takes none.' },
  HDC2041: { severity: 'error', summary: 'A setting\'s value has the wrong kind or count (a number where a text is expected, two values for one, …).' },
  HDC2042: { severity: 'error', summary: 'A setting\'s value is not one of the words it accepts.' },
  HDC2043: { severity: 'error', summary: 'A URL is not absolute (scheme and host).' },
  HDC2044: { severity: 'warning', summary: 'A value map maps nothing.' },
  HDC2045: { severity: 'error', summary: 'Unknown kind of block: auth kind, API kind or login method.' },
  HDC2046: { severity: 'error', summary: 'The API base URL is neither a "string" nor env("NAME").' },
  HDC2047: { severity: 'error', summary: 'A retry policy out of range: fewer than 1 attempt, or `max` shorter than `backoff`.' },
  HDC2048: { severity: 'error', summary: 'A setting or value that does not apply here (validate on a non-FHIR API, an ack timeout without after_workflow).' },
  HDC2049: { severity: 'error', summary: 'A sender `match` reads a segment other than MSH.' },
  HDC2050: { severity: 'error', summary: 'A sender path does not start with "/".' },
  HDC2051: { severity: 'error', summary: 'Unknown IANA time zone.' },
  HDC2052: { severity: 'error', summary: '`ack after_workflow` on a sender with no route.' },
  HDC2053: { severity: 'error', summary: '`require` names a list (`[*]`) instead of one position.' },
  HDC2054: { severity: 'error', summary: 'A store collection name uses characters other than letters, digits, _ . and -.' },
  HDC2055: { severity: 'error', summary: 'Unknown ACK code (reject takes AE or AR; expect ack takes AA, AE, AR, CA, CE or CR).' },
  HDC2056: { severity: 'error', summary: 'A statement that is not allowed in this block (a launch fetch block reads data only).' },
  HDC2057: { severity: 'warning', summary: 'An EHR launch whose scope lacks "launch".' },
  // 3xxx: HL7
  HDC3001: { severity: 'error', summary: 'The HL7 segment does not exist in the declared version.' },
  HDC3002: { severity: 'error', summary: 'The HL7 field does not exist on this segment.' },
  HDC3003: { severity: 'error', summary: 'The HL7 component or subcomponent does not exist for this data type.' },
  HDC3004: { severity: 'error', summary: 'Unknown or unsupported HL7 version.' },
  HDC3005: { severity: 'error', summary: 'Unknown HL7 message type or trigger event for the declared version.' },
  HDC3006: { severity: 'warning', summary: 'A repetition on a field that does not repeat in the declared version.' },
  HDC3007: { severity: 'error', summary: 'A message type is routed but not accepted by the sender.' },
  HDC3008: { severity: 'info', summary: 'An accepted message type has no route.' },
  HDC3009: { severity: 'warning', summary: 'Two senders share a path and their MSH predicates can match the same message.' },
  // 4xxx: FHIR
  HDC4001: { severity: 'error', summary: 'Unknown FHIR R4 resource type.' },
  HDC4002: { severity: 'error', summary: 'Unknown search parameter for this resource type.' },
  HDC4010: { severity: 'error', summary: 'A FHIR body names an element the resource or data type does not have.' },
  HDC4011: { severity: 'error', summary: 'A FHIR body value has the wrong shape for its element (a text for a CodeableConcept, a single value for a list, a number for a boolean, …).' },
  HDC4012: { severity: 'error', summary: 'A code outside the required binding of its FHIR element (a literal, or a value map\'s output).' },
  HDC4013: { severity: 'error', summary: 'A created or updated FHIR resource lacks a required element.' },
  HDC4014: { severity: 'error', summary: 'A value map targets a code system whose codes it does not use.' },
  HDC4015: { severity: 'error', summary: 'A patch body sets nothing, or sets what a patch may not (id, resourceType, a nested path).' },
  HDC4020: { severity: 'error', summary: 'A read of a FHIR step result names an element the resource (a Bundle for a search) or data type does not have.' },
  // 5xxx: security and SMART
  HDC5001: { severity: 'error', summary: 'A secret is written as a literal; use env() or file().' },
  HDC5002: { severity: 'error', summary: 'A redirect target is not an absolute https URL.' },
  HDC5003: { severity: 'error', summary: 'A redirect target is not in the launch\'s declared targets.' },
  HDC5004: { severity: 'error', summary: 'A URL the runtime calls uses http to a host other than loopback (an error; a warning on loopback).' },
  HDC5005: { severity: 'error', summary: 'A launch has no client authentication or issuer allow-list.' },
  HDC5010: { severity: 'error', summary: 'A redirect parameter uses a name reserved for signed parameters (hdc_exp, hdc_sig).' },
  HDC5011: { severity: 'error', summary: 'A launch extends a launch that is not declared in the same file, or extends itself.' },
  HDC5012: { severity: 'error', summary: '`optional` is written on a step other than a launch fetch\'s read or search.' },
  HDC5013: { severity: 'warning', summary: 'A redirect target uses http on a loopback address (allowed for development, a warning).' },
  // 6xxx: types
  HDC6001: { severity: 'error', summary: 'Type mismatch the compiler can see.' },
  HDC6002: { severity: 'error', summary: 'for each over a value that is not a list.' },
  HDC6003: { severity: 'error', summary: 'Invalid value for a conversion or setting type.' },
  // 7xxx: tests
  HDC7001: { severity: 'error', summary: 'A test refers to an unknown sender, API, step or launch.' },
  HDC7002: { severity: 'error', summary: 'A test fixture file was not found.' },
  // 8xxx: transforms and the std library
  HDC8001: { severity: 'error', summary: 'An import "std/…" names no library shipped with hdc.' },
  HDC8002: { severity: 'error', summary: 'An HL7 path in a transform reads a segment no parameter holds.' },
  HDC8003: { severity: 'error', summary: 'A declaration is named std.… outside the std library.' },
  HDC8004: { severity: 'error', summary: 'Unknown transform parameter type (message, a segment ID, each SEG, an HL7 data type or value).' },
  HDC8005: { severity: 'error', summary: 'A transform is called with the wrong number of arguments.' },
  HDC8006: { severity: 'error', summary: 'A transform argument of the wrong kind (another segment, a text for a segment, …).' },
  HDC8007: { severity: 'error', summary: 'A transform extends a transform that does not exist.' },
  HDC8008: { severity: 'error', summary: 'A transform\'s result is not a FHIR R4 resource or data type.' },
  HDC8009: { severity: 'error', summary: 'An HL7 read a transform cannot make (a segment repetition other than the first or [*], a component of a value).' },
  HDC8010: { severity: 'error', summary: 'A transform parameter is declared twice.' },
  HDC8011: { severity: 'error', summary: 'A transform reads a segment the HL7 dictionary of its version does not define (a warning for 2.8, checked against 2.7.1).' },
  HDC8012: { severity: 'error', summary: 'A transform reads a field its segment does not have in the transform\'s HL7 version (a warning for 2.8).' },
  HDC8013: { severity: 'error', summary: 'A transform reads a component, subcomponent or repetition the field\'s data type or definition does not have in its HL7 version (a warning for 2.8).' },
  HDC8014: { severity: 'error', summary: 'A transform declares an unknown HL7 version.' },
  // 81xx: the monitoring module (dashboard, metrics, tracing)
  HDC8100: { severity: 'error', summary: 'A monitoring `listen` is not HOST:PORT (e.g. "127.0.0.1:9464").' },
  HDC8101: { severity: 'error', summary: 'The dashboard listens on an address other than loopback (it serves plain HTTP; put an HTTPS proxy in front).' },
  HDC8102: { severity: 'error', summary: 'A dashboard role grants no group, or a role is declared twice.' },
  HDC8103: { severity: 'warning', summary: 'The dashboard has no operator role: nobody can see content or replay.' },
  HDC8104: { severity: 'error', summary: 'The dashboard and the metrics listen on the same address.' },
  HDC8105: { severity: 'error', summary: 'The dashboard\'s retention is shorter than one day, or its session_idle shorter than one minute.' },
  HDC8106: { severity: 'error', summary: 'The tracing block\'s `otlp` is not an http(s) URL.' },
  // 86xx: the Bulk FHIR module (modules/bulk/checks.ts)
  HDC8600: { severity: 'error', summary: 'A `bulk` block exports from an API that is not a FHIR server.' },
  HDC8601: { severity: 'error', summary: 'A `bulk` level is not `system`, `patient` or `group "ID"`, or `patient` does not fit the level or kick-off.' },
  HDC8602: { severity: 'error', summary: 'A `bulk` block names a resource type FHIR R4 does not have.' },
  HDC8603: { severity: 'error', summary: 'A patient- or group-level export asks for a type outside the Patient compartment.' },
  HDC8604: { severity: 'error', summary: 'A `type_filter` is not TYPE?QUERY over the type\'s R4 search parameters, or filters a type not exported.' },
  HDC8605: { severity: 'error', summary: 'An `on` in a `bulk` block is not `on TYPE run WORKFLOW`, routes a type twice, or (a warning) routes a type not exported.' },
  HDC8606: { severity: 'error', summary: 'A `bulk` `since` is not `last_success` or an instant with a time zone.' },
  HDC8607: { severity: 'error', summary: 'A `bulk` `schedule` is not a five-field cron expression or `every DURATION` of a minute or more.' },
  HDC8608: { severity: 'error', summary: 'A `bulk` `store` is not `ndjson "RELATIVE/FOLDER"`.' },
  HDC8609: { severity: 'error', summary: 'A `bulk` `concurrency` is not a whole number from 1 to 16.' },
  HDC8610: { severity: 'error', summary: 'A `bulk` `elements` entry is not an element, or TYPE.element, of FHIR R4.' },
  HDC8611: { severity: 'warning', summary: 'A `bulk` block exports from an API without auth (Bulk Data servers require Backend Services).' },
  HDC8612: { severity: 'warning', summary: 'A `bulk` block neither runs workflows nor keeps the files.' },
  // 83xx: the store (HDC8300, a runtime refusing to join runtimes with another plan, is reported by `hdc run`)
  HDC8301: { severity: 'error', summary: 'Unknown store kind: `store postgres …` or `store sqlite`.' },
  HDC8302: { severity: 'error', summary: '`store postgres` without the database URL.' },
  HDC8303: { severity: 'error', summary: 'The store URL is not a string, env() or file(), or a literal URL holds a password.' },
  HDC8304: { severity: 'error', summary: 'The store URL is not a postgres:// URL.' },
  HDC8305: { severity: 'error', summary: 'The store is declared more than once in a project.' },
  HDC8306: { severity: 'error', summary: '`store sqlite` takes no URL (the file lives in the runtime\'s data directory).' },
  HDC8307: { severity: 'error', summary: 'A SMART launch without `session_key` in a project whose runtimes share a PostgreSQL store.' },
} as const satisfies Record<string, CodeSpec>;

export type Code = keyof typeof diagnosticCodes;

/** Code → meaning (the summaries alone). */
export const codes = Object.fromEntries(Object.entries(diagnosticCodes).map(([code, spec]) => [code, spec.summary])) as Record<Code, string>;
