// Reads one file of an export, line by line as it arrives, and hands each resource on: a run of
// its type's workflow, queued in the same transaction that records the file's progress (lines
// and bytes), so a line is handed on exactly once however often the download is interrupted. A
// line that is not JSON, or not a resource of the file's type, is an error record of the export.
import { closeSync, existsSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ModuleRuns } from '../../runtime/workflows/module-runs.ts';
import type { BulkStore, FileRow } from './bulk-store.ts';
import { ndjsonLines, type Line } from './ndjson-lines.ts';

export interface FileReaderOptions {
  exportId: string;
  name: string;
  file: FileRow;
  source: number;
  store: BulkStore;
  runs: ModuleRuns;
  routes: ReadonlyMap<string, string>;
  batchLines: number;
  transactionTime: string;
  /** Keep the file's lines here too (`store ndjson`). */
  keepAt?: string;
  onBatch?(): void;
}

interface Pending { workflow: string; input: string }

export class FileReader {
  private lines: number;
  private bytes: number;
  private readonly sender: string;

  constructor(private readonly o: FileReaderOptions) {
    this.lines = o.file.lines;
    this.bytes = o.file.bytes;
    this.sender = `bulk/${o.name}`;
  }

  /** What is handed on already: the next download starts after it. */
  position(): { lines: number; bytes: number } {
    return { lines: this.lines, bytes: this.bytes };
  }

  /** Reads the body; `resumedAt` is the byte offset it starts at (0 for the whole file, whose lines done are skipped). */
  async read(body: Readable, resumedAt: number): Promise<void> {
    const o = this.o;
    const keep = o.keepAt ? this.openKept(o.keepAt) : undefined;
    const start = resumedAt > 0 ? { startLine: this.lines, startByte: resumedAt } : {};
    const batch: Line[] = [];
    try {
      for await (const lines of ndjsonLines(body, start)) {
        for (const l of lines) if (l.n > this.lines) batch.push(l);
        // A full batch, or a slow download's lines every quarter second: progress stays recent.
        if (batch.length >= o.batchLines || (batch.length && Date.now() - this.committedAt >= 250)) this.commit(batch.splice(0), keep);
      }
      if (batch.length) this.commit(batch.splice(0), keep);
    } catch (err) {
      // Lines read before the cut are handed on; the next attempt starts after them.
      if (batch.length) this.commit(batch.splice(0), keep);
      throw err;
    } finally {
      if (keep !== undefined) closeSync(keep);
    }
  }

  /** The kept copy holds exactly the lines handed on: anything after them (a crash between the write and the commit) is cut. */
  private openKept(path: string): number {
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    let size = 0;
    if (this.lines > 0) {
      const buf = Buffer.alloc(1 << 16);
      let seen = 0;
      let pos = 0;
      for (let n = readSync(fd, buf, 0, buf.length, pos); n > 0 && seen < this.lines; n = readSync(fd, buf, 0, buf.length, pos)) {
        for (let i = 0; i < n && seen < this.lines; i++) if (buf[i] === 10 && ++seen === this.lines) size = pos + i + 1;
        pos += n;
      }
    }
    ftruncateSync(fd, size);
    this.keptAt = size;
    return fd;
  }

  private keptAt = 0;
  private committedAt = Date.now();

  private commit(batch: Line[], keep: number | undefined): void {
    const o = this.o;
    const runs: Pending[] = [];
    const errors: Array<{ line: number; reason: string }> = [];
    let resources = 0;
    const now = Date.now();
    for (const l of batch) {
      if (l.text === undefined) {
        errors.push({ line: l.n, reason: `line ${l.n} is longer than the largest line read` });
        continue;
      }
      let value: { resourceType?: unknown; entry?: unknown; issue?: unknown };
      try {
        value = JSON.parse(l.text);
      } catch {
        errors.push({ line: l.n, reason: `line ${l.n} is not JSON` });
        continue;
      }
      const kind = o.file.kind;
      if (kind === 'error') {
        errors.push({ line: l.n, reason: `the server reported: ${outcomeText(value)}` });
        continue;
      }
      if (kind === 'deleted') {
        const workflow = o.routes.get('deleted');
        for (const [i, ref] of deletedRefs(value).entries()) {
          resources++;
          if (workflow) runs.push({ workflow, input: this.input(JSON.stringify(ref), ref.resourceType, l.n, now, true, i) });
        }
        continue;
      }
      if (value === null || typeof value !== 'object' || value.resourceType !== o.file.type) {
        const got = value && typeof value === 'object' && typeof value.resourceType === 'string' ? `a ${value.resourceType}` : 'not a resource';
        errors.push({ line: l.n, reason: `line ${l.n} is ${got}, not a ${o.file.type}` });
        continue;
      }
      resources++;
      const workflow = o.routes.get(o.file.type);
      // The line is the resource's JSON already: written into the run's input as it came.
      if (workflow) runs.push({ workflow, input: this.input(l.text, o.file.type, l.n, now, false) });
    }
    const last = batch[batch.length - 1]!;
    if (keep !== undefined) {
      const text = batch.map((l) => (l.text ?? '') + '\n').join('');
      this.keptAt += writeSync(keep, text, this.keptAt);
    }
    const ids: number[] = [];
    o.store.db.transaction(() => {
      for (const r of runs) ids.push(o.runs.enqueue(o.source, this.sender, r, now));
      for (const e of errors) o.store.recordError(o.exportId, o.file.idx, e.line, e.reason);
      o.store.recordProgress(o.exportId, o.file.idx, last.n, last.end, resources, last.end - this.bytes, errors.length);
    })();
    this.lines = last.n;
    this.bytes = last.end;
    this.committedAt = Date.now();
    o.runs.notify(o.source, this.sender, ids);
    o.onBatch?.();
  }

  private input(resource: string, type: string, line: number, now: number, deleted: boolean, entry?: number): string {
    const o = this.o;
    const key = `${o.exportId}/${o.file.idx}/${line}${entry !== undefined ? `/${entry}` : ''}`;
    const bulk = JSON.stringify({ name: o.name, export: o.exportId, file: o.file.idx, line, type, deleted, transactionTime: o.transactionTime });
    const message = JSON.stringify({ type: 'BULK', trigger: type, controlId: key, version: '', receivedAt: now, sender: this.sender });
    return `{"fields":{"resource":${resource},"bulk":${bulk}},"message":${message}}`;
  }
}

/** The resources a deleted[] line (a Bundle of DELETE requests) names. */
function deletedRefs(value: unknown): Array<{ resourceType: string; id: string }> {
  const entries = (value as { entry?: Array<{ request?: { url?: string }; fullUrl?: string }> })?.entry ?? [];
  return entries.flatMap((e) => {
    const m = /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(e.request?.url ?? e.fullUrl ?? '');
    return m ? [{ resourceType: m[1]!, id: m[2]! }] : [];
  });
}

function outcomeText(value: unknown): string {
  const issues = (value as { issue?: Array<{ code?: string; diagnostics?: string; details?: { text?: string } }> })?.issue ?? [];
  return issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code ?? '').filter(Boolean).join('; ').slice(0, 500) || 'an error without details';
}
