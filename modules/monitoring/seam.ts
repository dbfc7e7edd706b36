// The parts of the module seam this module uses.
export type { ModuleInstance, ModuleServices, RuntimeModule } from '../../runtime/platform/modules.ts';
export type { AnsweredMessage as InboundMessageEvent } from '../../runtime/inbound/inbound-events.ts';
