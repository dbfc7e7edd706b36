// Events one module announces for the others through the seam (a module never imports another):
// the SMART module reports how each launch ended, the monitoring module counts them. Payloads
// carry names from the plan and codes only: never patient data, user names or tokens.
import { EventEmitter } from 'node:events';

/** completed: redirected to the app; refused: the request or the user was turned away (4xx); failed: a server or peer failed (5xx). */
export type SmartLaunchOutcome = 'completed' | 'refused' | 'failed';

export interface SmartLaunchEvent {
  /** The `smart launch` block's name. */
  launch: string;
  outcome: SmartLaunchOutcome;
}

/** A Bulk FHIR export's state after each step or batch (counts only). */
export interface BulkExportEvent {
  /** The `bulk` block's name. */
  block: string;
  export: string;
  status: 'requested' | 'kickoff' | 'polling' | 'downloading' | 'done' | 'failed' | 'cancelled';
  files: number;
  filesDone: number;
  resources: number;
  bytes: number;
  errors: number;
  /** When the export was asked for, and when it ended (null while it runs); epoch milliseconds. */
  startedAt: number;
  endedAt: number | null;
}

export interface ModuleEventMap {
  'smart-launch': [SmartLaunchEvent];
  'bulk-export': [BulkExportEvent];
}

export class ModuleEvents extends EventEmitter<ModuleEventMap> {}
