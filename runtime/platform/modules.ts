// The module seam: an add-on (SMART launches, the dashboard, Bulk FHIR) is a folder under
// modules/ with a spec (what it adds to the language) and a runtime service implementing
// RuntimeModule. The runtime loads only the modules a plan uses, applies their migrations after
// the core's, starts them once the listener is up, offers them the requests the core does not
// handle, and stops them before the database closes. `ModuleServices` is the whole surface a
// module may use; it never reaches into the runtime's internals or into another module.
import type { Context } from 'koa';
import type { Plan } from '../../plan/plan.types.ts';
import type { Database } from '../journal/open-database.ts';
import type { Migration } from '../journal/migrations.ts';
import type { SharedSql } from '../store/shared-sql.ts';
import type { ModuleRuns } from '../workflows/module-runs.ts';
import type { RunEvents } from '../journal/run-events.ts';
import type { InboundEvents } from '../inbound/inbound-events.ts';
import type { Logger } from './log/logger.ts';
import type { ValueResolver } from '../workflows/resolve-value.ts';
import type { Engine } from '../workflows/engine.ts';
import type { JournalCommits } from '../store/journal-commits.ts';
import type { OutboundHeaders } from '../workflows/outbound-headers.ts';
import type { ModuleEvents } from './module-events.ts';
import { moduleCatalog } from '../../modules/catalog.ts';

export interface ModuleServices {
  /** The plan, with env() and file() values resolved. */
  plan: Plan;
  /** The main-thread connection, migrated (the module's own tables included). */
  db: Database;
  /** The database file, for a module that writes enough to want its own connection. */
  dbFile: string;
  /**
   * The tables every runtime of a cluster shares (migrations with a `postgres` form): PostgreSQL
   * when the store is, else the same SQLite file as `db`.
   */
  sql: SharedSql;
  /**
   * Workflow runs a module queues itself, in transactions with its own statements on `sql`'s
   * database (runtime/workflows/module-runs.ts): the shared queue on PostgreSQL, the SQLite
   * engine's otherwise (a module with a connection of its own may use `sqliteModuleRuns` on it).
   */
  runs: ModuleRuns;
  /**
   * On a store several runtimes share: this runtime's id and the lease after which work it holds
   * (claimed runs; a module's own, such as an export) goes to the others when it stops renewing.
   */
  cluster?: { runtimeId: string; leaseMs: number };
  /** Workflow runs: enqueued, retrying, finished. */
  events: RunEvents;
  /** One event per HL7 message answered by the listener. */
  inbound: InboundEvents;
  /** One `commit` event per batch the journal made durable (entries, seconds). */
  journal: JournalCommits;
  /** Events modules announce for each other (`smart-launch`). */
  moduleEvents: ModuleEvents;
  /**
   * Adds headers to the requests workflow steps send, computed per step when it runs (trace
   * context); the function returned removes the provider.
   */
  outboundHeaders(provider: OutboundHeaders): () => void;
  log: Logger;
  /** Resolves env() and file() values the module's settings hold. */
  resolve: ValueResolver;
  /** The runtime's public base URL (no trailing slash). */
  publicUrl(): string;
  /** The workflow engine, once `hdc run` (or a test) attached one. */
  engine(): Engine | undefined;
  /** Reports a failure the process cannot recover from (the runtime exits for its supervisor). */
  fatal(err: Error): void;
}

export interface ModuleInstance {
  /** Offered every request on the runtime's listener that the core does not handle; true when handled. */
  routes?(ctx: Context): Promise<boolean>;
  /** False while the module cannot work: /ready answers not ready. */
  ready?(): boolean;
  stop(): Promise<void>;
}

export interface RuntimeModule<Options = unknown> {
  name: string;
  /** Whether a plan uses this module; it is loaded only then. */
  usedBy(plan: Plan): boolean;
  /** Tables the module owns, ids prefixed with its name; applied in order after the core's. */
  migrations?: readonly Migration[];
  /** `options`: what the embedding program passes for this module (tests shorten timers, swap transports). */
  start(services: ModuleServices, options?: Options): Promise<ModuleInstance>;
}

export interface LoadedModule {
  module: RuntimeModule;
  instance?: ModuleInstance;
}

/** The modules the plan uses, loaded (their code and dependencies are imported only now). */
export async function loadModules(plan: Plan): Promise<RuntimeModule[]> {
  const loaded: RuntimeModule[] = [];
  for (const entry of moduleCatalog) {
    const module = (await entry.load()).default;
    if (module.usedBy(plan)) loaded.push(module);
  }
  return loaded;
}
