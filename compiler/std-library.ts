// The libraries shipped with hdc (the `std/` folder at the package root): `import "std/NAME"`
// loads every .hdc file of std/NAME/ (or std/NAME.hdc). Their declarations are named `std.…`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The std folder: next to compiler/ in the sources, or next to dist/ in a build. */
export function stdRoot(): string {
  for (const up of ['..', '../..']) {
    const dir = resolve(here, up, 'std');
    if (existsSync(dir)) return dir;
  }
  return resolve(here, '..', 'std');
}

const toPosix = (p: string) => p.split(sep).join('/');
const display = (p: string) => toPosix(relative(process.cwd(), p)) || '.';

export function stdLibraries(): string[] {
  try {
    return readdirSync(stdRoot(), { withFileTypes: true }).filter((e) => e.isDirectory() || e.name.endsWith('.hdc'))
      .map((e) => e.name.replace(/\.hdc$/, '')).sort();
  } catch {
    return [];
  }
}

/** The files an `import "std/…"` loads (display paths), [] when there is no such library; undefined for other imports. */
export function stdImport(path: string): string[] | undefined {
  if (!path.startsWith('std/')) return undefined;
  const name = path.slice(4).replace(/\.hdc$/, '');
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) return [];
  const dir = join(stdRoot(), name);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    return readdirSync(dir).filter((f) => f.endsWith('.hdc')).sort().map((f) => display(join(dir, f)));
  }
  const file = join(stdRoot(), `${name}.hdc`);
  return existsSync(file) ? [display(file)] : [];
}

/** True for a file of the std library (its declarations may be named std.…). */
export function isStdFile(file: string): boolean {
  const rel = relative(stdRoot(), resolve(file));
  return !rel.startsWith('..') && !rel.startsWith(sep) && rel !== '';
}
