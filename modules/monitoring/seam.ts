// The parts of the module seam this module uses.
export type { ModuleInstance, ModuleServices, RuntimeModule } from '../../runtime/platform/modules.ts';
export type { AnsweredMessage as InboundMessageEvent } from '../../runtime/inbound/inbound-events.ts';
export type { JournalCommit } from '../../runtime/store/journal-commits.ts';
export type { BulkExportEvent, SmartLaunchEvent } from '../../runtime/platform/module-events.ts';
export type { OutboundStep } from '../../runtime/workflows/outbound-headers.ts';
