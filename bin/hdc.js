#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// The hdc command. Runs the compiled build (npm run build); with HDC_DEV=1, or when no build
// exists, runs the TypeScript sources through tsx (a development dependency).
// The V8 heap settings on the first line bound the runtime's memory: a 4 MB young generation and an
// old generation grown by half its live size between full collections (V8's default lets it grow
// to four times: a long Bulk export with its workflow runs peaked above 250 MB, ~160 MB with them).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (process.env.HDC_DEV !== '1' && existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../cli/main.ts', import.meta.url).href);
}
