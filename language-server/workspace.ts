// What the server knows of the files: open documents (the editor's text wins) over the .hdc files
// on disk. A project is the set of .hdc files in one folder, as `hdc compile DIR` sees it; imports
// may reach files elsewhere, which are read the same way (open text first, then disk).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { dirname, join } from 'node:path/posix';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';

/**
 * Files are named by path with forward slashes, as the compiler names them in diagnostics and
 * symbols; documents that are not files (untitled:…) keep their URI as their name.
 */
export const uriToPath = (uri: string): string => (uri.startsWith('file:') ? toPosixPath(fileURLToPath(uri)) : uri);
/** A file system path in the server's form (forward slashes). */
export const toPosixPath = (path: string): string => path.split(sep).join('/');
const isFilePath = (path: string): boolean => path.startsWith('/') || /^[A-Za-z]:\//.test(path);
export const pathToUri = (path: string): string => (isFilePath(path) ? pathToFileURL(path).href : path);

interface DiskEntry { mtimeMs: number; text: string | undefined }

export class Workspace {
  private open = new Map<string, TextDocument>();
  private disk = new Map<string, DiskEntry>();
  private listings = new Map<string, string[]>();

  /** The editor opened or changed a document. */
  setOpen(doc: TextDocument): void {
    this.open.set(uriToPath(doc.uri), doc);
  }
  close(uri: string): void {
    this.open.delete(uriToPath(uri));
  }
  document(path: string): TextDocument | undefined {
    return this.open.get(path);
  }
  openPaths(): string[] {
    return [...this.open.keys()];
  }

  /** The current text of a file: the open document's, else the disk's (undefined when unreadable). */
  text(path: string): string | undefined {
    const doc = this.open.get(path);
    if (doc) return doc.getText();
    let st;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    const cached = this.disk.get(path);
    if (cached && cached.mtimeMs === st.mtimeMs) return cached.text;
    let text: string | undefined;
    try {
      text = st.isFile() ? readFileSync(path, 'utf8') : undefined;
    } catch {
      text = undefined;
    }
    this.disk.set(path, { mtimeMs: st.mtimeMs, text });
    return text;
  }

  /** A file changed, appeared or vanished on disk (file watcher): forget what was read. */
  diskChanged(path: string): void {
    this.disk.delete(path);
    this.listings.delete(dirname(path));
  }

  /** The project a file belongs to: its folder (an unsaved, untitled document is a project of its own). */
  projectOf(path: string): string {
    return isFilePath(path) ? dirname(path) : path;
  }

  /** The .hdc files of a project: those on disk in the folder plus open, unsaved ones. */
  projectFiles(dir: string): string[] {
    if (!isFilePath(dir)) return this.open.has(dir) ? [dir] : [];
    let listed = this.listings.get(dir);
    if (!listed) {
      try {
        listed = readdirSync(dir).filter((n) => n.endsWith('.hdc')).map((n) => join(dir, n));
      } catch {
        listed = [];
      }
      this.listings.set(dir, listed);
    }
    const files = new Set(listed);
    for (const p of this.open.keys()) if (dirname(p) === dir && p.endsWith('.hdc')) files.add(p);
    return [...files].sort();
  }
}
