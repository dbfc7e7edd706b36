// The parts of the module seam (runtime/platform/modules.ts) this module uses, written out until
// the seam is on main; then this file re-exports the seam's own types.
import type { EventEmitter } from 'node:events';
import type { Context } from 'koa';
import type { Database } from 'better-sqlite3';
import type { Plan } from '../../plan/plan.types.ts';
import type { Migration } from '../../runtime/journal/migrations.ts';
import type { RunEvents } from '../../runtime/journal/run-events.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import type { ValueResolver } from '../../runtime/workflows/resolve-value.ts';
import type { Engine } from '../../runtime/workflows/engine.ts';

/** One HL7 message answered by the listener (runtime/inbound/inbound-events.ts). */
export interface InboundMessageEvent {
  sender: string | null;
  messageType: string;
  ackCode: string;
  receivedAt: number;
  latencyMs: number;
  messageId?: number;
  refusedReason?: string;
}

export type InboundEvents = Pick<EventEmitter<{ message: [InboundMessageEvent] }>, 'on' | 'off'>;

export interface ModuleServices {
  plan: Plan;
  db: Database;
  dbFile: string;
  events: RunEvents;
  inbound: InboundEvents;
  log: Logger;
  resolve: ValueResolver;
  publicUrl(): string;
  engine(): Engine | undefined;
  fatal(err: Error): void;
}

export interface ModuleInstance {
  routes?(ctx: Context): Promise<boolean>;
  ready?(): boolean;
  stop(): Promise<void>;
}

export interface RuntimeModule {
  name: string;
  usedBy(plan: Plan): boolean;
  migrations?: Migration[];
  start(services: ModuleServices): Promise<ModuleInstance>;
}
