// Statements on the message path (journal batches, claims, run ends) run thousands of times a
// second. Named, each pooled connection parses them once and PostgreSQL plans them once per
// connection (a generic plan after its first executions) instead of at every call: parsing and
// planning the claim cost more than executing it.
import type pg from 'pg';

export interface Prepared {
  (values: unknown[]): pg.QueryConfig;
  readonly text: string;
}

/** `name` must be unique per statement text: a connection keeps one text per name. */
export function prepared(name: string, text: string): Prepared {
  const make = (values: unknown[]): pg.QueryConfig => ({ name, text, values });
  return Object.assign(make, { text });
}
