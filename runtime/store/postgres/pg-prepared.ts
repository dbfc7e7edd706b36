// Statements on the message path (journal batches, claims) run thousands of times a second.
// Named, each pooled connection parses them once and PostgreSQL plans them once per connection
// (a generic plan after its first executions) instead of at every call: parsing and planning the
// claim cost more than executing it. Only statements whose plan cannot depend on a table's size
// are named: a generic plan is kept while the table grows.
import type pg from 'pg';

/** `name` must be unique per statement text: a connection keeps one text per name. */
export function prepared(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  return (values) => ({ name, text, values });
}
