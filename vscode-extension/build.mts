// Builds the extension: bundles the client and the language server (with the compiler and its
// HL7/FHIR tables) into dist/, and with --package writes the .vsix offline with vsce.
// Run from the repository root: npm run build:vsix
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const dist = join(here, 'dist');
const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as { name: string; version: string };

export const vsixPath = join(here, `${manifest.name}-${manifest.version}.vsix`);

export async function bundle(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, sourcemap: false, logLevel: 'warning', legalComments: 'none' } as const;
  await build({ ...common, entryPoints: [join(here, 'src/extension.ts')], outfile: join(dist, 'extension.js'), external: ['vscode'] });
  await bundleServer(dist);
}

/**
 * The language server as the extension ships it: server.js, the check thread's check-worker.js
 * beside it, and the HL7/FHIR tables in generated/. The benchmark starts this bundle too.
 */
export async function bundleServer(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  // The compiler is ESM and finds its tables next to itself through import.meta.url; in the CommonJS
  // bundle that is the bundle's own URL, so the tables are copied to generated/ beside it.
  const serverCommon = {
    bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, sourcemap: false, logLevel: 'warning', legalComments: 'none',
    define: { 'import.meta.url': '__hdcModuleUrl' },
    banner: { js: 'const __hdcModuleUrl = require("url").pathToFileURL(__filename).href;' },
  } as const;
  await build({ ...serverCommon, entryPoints: [join(root, 'language-server/main.ts')], outfile: join(outDir, 'server.js') });
  await build({ ...serverCommon, entryPoints: [join(root, 'language-server/check-worker.ts')], outfile: join(outDir, 'check-worker.js') });
  cpSync(join(root, 'compiler/dictionaries/generated'), join(outDir, 'generated'), { recursive: true });
}

export function packageVsix(): void {
  rmSync(vsixPath, { force: true });
  const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', vsixPath], { cwd: here, stdio: 'inherit', env: { ...process.env, VSCE_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) throw new Error(`vsce package failed with exit code ${r.status}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bundle();
  if (process.argv.includes('--package')) packageVsix();
}
