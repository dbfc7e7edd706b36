// Starts a module in a worker thread, from TypeScript sources or built JavaScript alike. The one
// bootstrap for every writer thread of the runtime (the journal's and the engine's).
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface ThreadStart {
  /** The thread's module, relative to the caller: './journal-worker' (no extension). */
  module: string;
  /** The caller's import.meta.url. */
  from: string;
  workerData: unknown;
  resourceLimits?: ResourceLimits;
}

/**
 * A writer's garbage is short-lived (one batch): a small young generation keeps the thread's memory,
 * and the transferred buffers it frees, small (V8's default grows to 32 MB per thread).
 */
const WRITER_YOUNG_GENERATION_MB = 4;

export function startThread(opts: ThreadStart): Worker {
  const fromSource = opts.from.endsWith('.ts');
  const script = new URL(`${opts.module}${fromSource ? '.ts' : '.js'}`, opts.from);
  // From TypeScript sources the thread loads them through tsx's in-thread require hook: its ESM
  // loader would start a module-hooks thread (another V8 heap) for this thread alone.
  const code = fromSource
    ? `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(script))});`
    : `import(${JSON.stringify(script.href)})`;
  return new Worker(code, {
    eval: true,
    workerData: opts.workerData,
    // No inherited flags: a writer needs none, an inherited `--import tsx` would start the hooks
    // thread anyway, and V8 heap flags such as --max-semi-space-size make the Worker constructor throw.
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB, ...opts.resourceLimits },
  });
}
