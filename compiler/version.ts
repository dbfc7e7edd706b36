// The package version, read from package.json from the sources and from the build in dist/.
import { existsSync, readFileSync } from 'node:fs';

const candidates = ['../package.json', '../../package.json'].map((p) => new URL(p, import.meta.url));
const found = candidates.find((u) => existsSync(u) && JSON.parse(readFileSync(u, 'utf8')).name === 'hdc');
export const version: string = found ? JSON.parse(readFileSync(found, 'utf8')).version : '0.0.0';
