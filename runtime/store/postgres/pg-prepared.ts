// Statements on the message path (journal batches, claims) run thousands of times a second.
// Named, each pooled connection parses them once and PostgreSQL plans them once per connection
// (a generic plan after its first executions) instead of at every call: parsing and planning the
// claim cost more than executing it. A connection keeps its generic plan while the tables grow, so
// only statements whose plan does not hinge on a table's size are named: inserts, equality
// lookups on unique indexes, and the queue's functions with their planner settings (pg-schema.ts).
import type pg from 'pg';

/** `name` must be unique per statement text: a connection keeps one text per name. */
export function prepared(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  return (values) => ({ name, text, values });
}
