// Every diagnostic code the compiler emits, with its meaning. docs/language.md lists the same
// table; a test keeps the two in step.
export const codes = {
  // 1xxx: syntax
  HDC1001: 'Unexpected token: the parser expected something else here.',
  HDC1002: 'Unterminated block: a `{` has no matching `}`.',
  HDC1003: 'Invalid character or token the lexer does not know.',
  HDC1004: 'Invalid string: bad escape or unbalanced `{…}` interpolation.',
  HDC1005: 'Invalid HL7 path syntax.',
  HDC1006: 'The formatter could not reproduce the file faithfully; the file is left as it is.',
  // 2xxx: names
  HDC2001: 'Unknown name (auth, API, sender, workflow, launch, step or variable).',
  HDC2002: 'Duplicate declaration.',
  HDC2003: 'A variable is used before the step that defines it.',
  HDC2004: 'Imported file not found or unreadable.',
  HDC2005: 'Unknown setting for this block.',
  HDC2006: 'A required setting is missing.',
  HDC2007: 'Invalid setting value.',
  HDC2008: 'A workflow is never run: no sender routes a message type to it.',
  HDC2009: 'Unknown function.',
  HDC2010: 'Wrong number of arguments to a function.',
  HDC2011: 'An API of the wrong kind for this step.',
  HDC2020: 'A `let` names a variable that is already defined; assign it with `name = value` instead.',
  HDC2021: 'A name defined inside an `if` branch is used after the `if` without a test that it is set.',
  HDC2022: 'An assignment to a name that is not a `let` variable.',
  // 3xxx: HL7
  HDC3001: 'The HL7 segment does not exist in the declared version.',
  HDC3002: 'The HL7 field does not exist on this segment.',
  HDC3003: 'The HL7 component or subcomponent does not exist for this data type.',
  HDC3004: 'Unknown or unsupported HL7 version.',
  HDC3005: 'Unknown HL7 message type or trigger event for the declared version.',
  HDC3006: 'A repetition on a field that does not repeat in the declared version.',
  HDC3007: 'A message type is routed but not accepted by the sender.',
  HDC3008: 'An accepted message type has no route.',
  HDC3009: 'Two senders share a path and their MSH predicates can match the same message.',
  // 4xxx: FHIR
  HDC4001: 'Unknown FHIR R4 resource type.',
  HDC4002: 'Unknown search parameter for this resource type.',
  HDC4010: 'A FHIR body names an element the resource or data type does not have.',
  HDC4011: 'A FHIR body value has the wrong shape for its element (a text for a CodeableConcept, a single value for a list, a number for a boolean, …).',
  HDC4012: 'A code outside the required binding of its FHIR element (a literal, or a value map\'s output).',
  HDC4013: 'A created or updated FHIR resource lacks a required element.',
  HDC4014: 'A value map targets a code system whose codes it does not use.',
  HDC4015: 'A patch body sets nothing, or sets what a patch may not (id, resourceType, a nested path).',
  // 5xxx: security and SMART
  HDC5001: 'A secret is written as a literal; use env() or file().',
  HDC5002: 'A redirect target is not an absolute https URL.',
  HDC5003: 'A redirect target is not in the launch\'s declared targets.',
  HDC5004: 'A URL the runtime calls uses http to a host other than loopback (an error; a warning on loopback).',
  HDC5005: 'A launch has no client authentication or issuer allow-list.',
  // 6xxx: types
  HDC6001: 'Type mismatch the compiler can see.',
  HDC6002: 'for each over a value that is not a list.',
  HDC6003: 'Invalid value for a conversion or setting type.',
  // 7xxx: tests
  HDC7001: 'A test refers to an unknown sender, API, step or launch.',
  HDC7002: 'A test fixture file was not found.',
  // 81xx: monitoring module (dashboard, metrics, tracing)
  HDC8100: 'A monitoring `listen` is not HOST:PORT (e.g. "127.0.0.1:9464").',
  HDC8101: 'The dashboard listens on an address other than loopback (it serves plain HTTP; put an HTTPS proxy in front).',
  HDC8102: 'A dashboard role grants no group, or a role is declared twice.',
  HDC8103: 'The dashboard has no operator role: nobody can see content or replay (a warning).',
  HDC8104: 'The dashboard and the metrics listen on the same address.',
  HDC8105: 'The dashboard\'s retention is shorter than one day, or its session_idle shorter than one minute.',
  HDC8106: 'The tracing block\'s `otlp` is not an http(s) URL.',
} as const;

export type Code = keyof typeof codes;
