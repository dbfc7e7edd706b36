// The expression language's functions, declared once: name, arity, result type and doc. The
// compiler checks calls against this table, completion and hover show the docs, docs/language.md's
// table is generated from it, and the runtime's implementations (runtime/workflows/expr/functions.ts)
// are typed against its names, so a function without an implementation does not compile. It lives
// with the plan contract because the compiler and the runtime both read it.
import type { ValueType } from './plan.types.ts';

export interface FunctionSig { min: number; max: number; returns: ValueType; doc: string }

export const functionSpecs = {
  first: { min: 1, max: 1, returns: 'any', doc: 'first(list): the first item, or null.' },
  last: { min: 1, max: 1, returns: 'any', doc: 'last(list): the last item, or null.' },
  count: { min: 1, max: 1, returns: 'number', doc: 'count(list): the number of items (0 for null).' },
  exists: { min: 1, max: 1, returns: 'boolean', doc: 'exists(x): x is not null and not empty.' },
  empty: { min: 1, max: 1, returns: 'boolean', doc: 'empty(x): x is null, "" or [].' },
  lower: { min: 1, max: 1, returns: 'string', doc: 'lower(text)' },
  upper: { min: 1, max: 1, returns: 'string', doc: 'upper(text)' },
  trim: { min: 1, max: 1, returns: 'string', doc: 'trim(text)' },
  coalesce: { min: 1, max: 16, returns: 'any', doc: 'coalesce(a, b, …): the first value that is not null.' },
  join: { min: 1, max: 2, returns: 'string', doc: 'join(list, separator = ",")' },
  split: { min: 2, max: 2, returns: 'list', doc: 'split(text, separator)' },
  concat: { min: 1, max: 16, returns: 'string', doc: 'concat(a, b, …): the texts joined.' },
  substring: { min: 2, max: 3, returns: 'string', doc: 'substring(text, start, length?) (0-based).' },
  replace: { min: 3, max: 3, returns: 'string', doc: 'replace(text, find, with): every occurrence.' },
  number: { min: 1, max: 1, returns: 'number', doc: 'number(x): a number, or null.' },
  string: { min: 1, max: 1, returns: 'string', doc: 'string(x)' },
  date: { min: 1, max: 1, returns: 'date', doc: 'date(x): HL7 DTM/TS or ISO → ISO 8601 date, precision kept.' },
  datetime: { min: 1, max: 2, returns: 'datetime', doc: 'datetime(x, zone?): HL7 DTM/TS or ISO → FHIR dateTime: the date\'s precision kept, a time to the second, the value\'s own offset (else the zone\'s, when given).' },
  uuid: { min: 1, max: 16, returns: 'string', doc: 'uuid(a, b, …): a UUID derived from the texts joined (SHA-256): the same texts always give the same id.' },
  er7: { min: 1, max: 1, returns: 'string', doc: 'er7(x): an HL7 composite as ER7 text (components joined by ^, subcomponents by &).' },
  flatten: { min: 1, max: 1, returns: 'list', doc: 'flatten(list): nested lists made one, nulls dropped.' },
  distinct_by: { min: 2, max: 2, returns: 'list', doc: 'distinct_by(list, "key"): the first item for each value of item.key (items without it are kept).' },
  when: { min: 2, max: 3, returns: 'any', doc: 'when(condition, value, otherwise?): value when the condition holds, else otherwise (null).' },
  format_date: { min: 2, max: 2, returns: 'string', doc: 'format_date(x, "YYYY-MM-DD HH:mm:ss")' },
  now: { min: 0, max: 0, returns: 'datetime', doc: 'now(): the current instant (ISO 8601, UTC).' },
  today: { min: 0, max: 0, returns: 'date', doc: 'today(): the current date (UTC).' },
  contains: { min: 2, max: 2, returns: 'boolean', doc: 'contains(textOrList, x)' },
  starts_with: { min: 2, max: 2, returns: 'boolean', doc: 'starts_with(text, prefix)' },
  ends_with: { min: 2, max: 2, returns: 'boolean', doc: 'ends_with(text, suffix)' },
  sum: { min: 1, max: 1, returns: 'number', doc: 'sum(list of numbers)' },
  min: { min: 1, max: 1, returns: 'any', doc: 'min(list)' },
  max: { min: 1, max: 1, returns: 'any', doc: 'max(list)' },
  distinct: { min: 1, max: 1, returns: 'list', doc: 'distinct(list): items without repeats, in order.' },
} as const satisfies Record<string, FunctionSig>;

export type FunctionName = keyof typeof functionSpecs;
