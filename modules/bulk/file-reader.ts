// Reads one file of an export, line by line as it arrives, and hands each resource on: a run of
// its type's workflow, queued in the same transaction that records the file's progress (lines
// and bytes), so a line is handed on exactly once however often the download is interrupted. A
// line that is not JSON, or not a resource of the file's type, is an error record of the export.
import { closeSync, existsSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FileRow } from './bulk-store.ts';
import { ndjsonLines, type Line } from './ndjson-lines.ts';
import type { QueueBatch } from './queue-writer.ts';

export interface FileReaderOptions {
  exportId: string;
  name: string;
  file: FileRow;
  source: number;
  /** Commits a batch (runs, errors, progress) in one transaction; resolves with the runs' ids. */
  queue(batch: QueueBatch): Promise<number[]>;
  /** The runs committed: wake the engine. */
  notify(ids: number[]): void;
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
    // One batch commits while the next is read and parsed.
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inFlight;
      if (batch.length) inFlight = this.commit(batch.splice(0), keep);
    };
    try {
      for await (const lines of ndjsonLines(body, start)) {
        for (const l of lines) if (l.n > this.lines && (!batch.length || l.n > batch[batch.length - 1]!.n)) batch.push(l);
        // A full batch, or a slow download's lines every quarter second: progress stays recent.
        if (batch.length >= o.batchLines || (batch.length && Date.now() - this.committedAt >= 250)) await flush();
      }
      await flush();
      await inFlight;
    } catch (err) {
      // Lines read before the cut are handed on; the next attempt starts after them.
      await flush().catch(() => undefined);
      await inFlight.catch(() => undefined);
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

  private async commit(batch: Line[], keep: number | undefined): Promise<void> {
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
    const added = last.end - this.bytes;
    // Advanced before the commit so the next batch's bytes count from here; restored if it fails.
    const before = { lines: this.lines, bytes: this.bytes };
    this.lines = last.n;
    this.bytes = last.end;
    this.committedAt = Date.now();
    let ids: number[];
    try {
      ids = await o.queue({ exportId: o.exportId, idx: o.file.idx, source: o.source, sender: this.sender, runs, errors, lines: last.n, bytes: last.end, resources, addedBytes: added });
    } catch (err) {
      this.lines = before.lines;
      this.bytes = before.bytes;
      throw err;
    }
    o.notify(ids);
    o.onBatch?.();
  }

  private input(resource: string, type: string, line: number, now: number, deleted: boolean, entry?: number): string {
    const o = this.o;
    // Written as text: two JSON.stringify calls per resource cost as much as its parse. The names
    // (block, export id, type) are checked identifiers; the ids have no characters to escape.
    const key = `${o.exportId}/${o.file.idx}/${line}${entry !== undefined ? `/${entry}` : ''}`;
    const bulk = `{"name":"${o.name}","export":"${o.exportId}","file":${o.file.idx},"line":${line},"type":"${type}","deleted":${deleted},"transactionTime":${JSON.stringify(o.transactionTime)}}`;
    const message = `{"type":"BULK","trigger":"${type}","controlId":"${key}","version":"","receivedAt":${now},"sender":"${this.sender}"}`;
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
