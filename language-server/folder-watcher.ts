// Watches the workspace folders from the server, for clients that do not register file watchers
// dynamically (Neovim without a watcher backend, Helix, …): every folder under the roots gets a
// watcher of its own (node_modules and dot-folders skipped, as `hdc compile` skips them), folders
// created later are watched as they appear, and a change to an .hdc file is reported once.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { toPosixPath } from './workspace.ts';

export type FileEvent = 'changed' | 'created' | 'deleted';

const skipped = (name: string) => name === 'node_modules' || name.startsWith('.');

export class FolderWatcher {
  private watchers = new Map<string, FSWatcher>();
  private known = new Map<string, boolean>();

  constructor(private readonly onChange: (path: string, event: FileEvent) => void) {}

  watch(root: string): void {
    this.add(root, false);
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private add(dir: string, announce: boolean): void {
    if (this.watchers.has(dir)) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name) this.changed(dir, name.toString());
      });
      w.on('error', () => this.remove(dir));
      this.watchers.set(dir, w);
    } catch {
      return;
    }
    for (const e of entries) {
      if (skipped(e.name)) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) this.add(path, announce);
      else if (e.name.endsWith('.hdc')) {
        this.known.set(path, true);
        // Files in a folder created after start-up (a copied project) are new to the server.
        if (announce) this.onChange(toPosixPath(path), 'created');
      }
    }
  }

  private remove(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + '/')) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  private changed(dir: string, name: string): void {
    if (skipped(name)) return;
    const path = join(dir, name);
    let isDir = false;
    let exists = true;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      exists = false;
    }
    if (isDir) return this.add(path, true);
    if (!exists && this.watchers.has(path)) return this.remove(path);
    if (!name.endsWith('.hdc')) return;
    const had = this.known.get(path) ?? false;
    this.known.set(path, exists);
    this.onChange(toPosixPath(path), !exists ? 'deleted' : had ? 'changed' : 'created');
  }
}
