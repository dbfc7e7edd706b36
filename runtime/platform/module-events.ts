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

export interface ModuleEventMap {
  'smart-launch': [SmartLaunchEvent];
}

export class ModuleEvents extends EventEmitter<ModuleEventMap> {}
