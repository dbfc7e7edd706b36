// The expression language's functions as the compiler sees them (declared in plan/functions.ts,
// shared with the runtime).
import { functionSpecs, type FunctionSig } from '../../plan/functions.ts';

export type { FunctionSig } from '../../plan/functions.ts';
/** By name; a lookup of an unknown name gives undefined. */
export const functions: Record<string, FunctionSig> = functionSpecs;
