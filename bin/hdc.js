#!/usr/bin/env node
// The hdc command. Runs the compiled build (npm run build); with HDC_DEV=1, or when no build
// exists, runs the TypeScript sources through tsx (a development dependency).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (process.env.HDC_DEV !== '1' && existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../cli/main.ts', import.meta.url).href);
}
