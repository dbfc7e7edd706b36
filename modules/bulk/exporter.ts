// One export, driven from its stored state to the end: kick-off, status polling, the manifest
// (and its next pages), the files. Every step records its result before the next starts, so a
// runtime that stops at any point continues from the database: the poll URL is stored before
// anything else after the 202, and each file's progress (lines handed to workflows, bytes) is
// committed in the same transaction as the runs those lines queued.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthProvider } from '../../runtime/workflows/auth/auth-provider.ts';
import type { Logger } from '../../runtime/platform/log/logger.ts';
import type { ModuleRuns } from '../../runtime/workflows/module-runs.ts';
import type { BulkExportSpec } from './bulk-plan.ts';
import { LeaseLost, type BulkStore, type ExportRow, type FileRow, type ManifestFile } from './bulk-store.ts';
import { HttpClient, retryAfterMs, type HttpResponse } from './http-client.ts';
import { kickoffRequest } from './kickoff.ts';
import { readOutcome } from './outcome.ts';
import { FileReader } from './file-reader.ts';
import type { BatchQueue } from './queue-writer.ts';
import { srcLine } from '../../runtime/platform/config/source-location.ts';

export interface ExporterTimers {
  /** First wait between status requests without Retry-After, doubling (default 1 s). */
  pollBaseMs: number;
  /** Longest wait between status requests (default 60 s). */
  pollMaxMs: number;
  /** Longest an export may take from kick-off to manifest (default 24 h). */
  exportTimeoutMs: number;
  /** Attempts per file download (transient failures, cut connections) before the file fails. */
  downloadAttempts: number;
  /** First wait before a download is tried again, doubling (default 1 s). */
  downloadBackoffMs: number;
  /** Lines per transaction (default 100: larger batches were no faster and kept more of the heap alive). */
  batchLines: number;
}

export const DEFAULT_TIMERS: ExporterTimers = {
  pollBaseMs: 1000, pollMaxMs: 60_000, exportTimeoutMs: 24 * 3_600_000, downloadAttempts: 5, downloadBackoffMs: 1000, batchLines: 100,
};

export interface ExporterDeps {
  spec: BulkExportSpec;
  baseUrl: string;
  http: HttpClient;
  auth: AuthProvider | undefined;
  store: BulkStore;
  runs: ModuleRuns;
  /** Where files' batches commit (inline, or a thread of its own). */
  queue: BatchQueue;
  log: Logger;
  dataDir: string;
  timers: ExporterTimers;
  /** Progress for listeners (the CLI reads the table; tests and the dashboard may listen). */
  onProgress?(row: ExportRow): void;
}

/**
 * A failure that ends the export (not worth trying again), with the .hdc line it belongs to.
 * `logged` is the message without the server's own words, which stay out of the logs.
 */
export class ExportFailed extends Error {
  constructor(message: string, readonly logged = message) {
    super(message);
  }
}


const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal.aborted) return reject(signal.reason);
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(signal.reason); };
  signal.addEventListener('abort', onAbort, { once: true });
});

export class Exporter {
  private readonly where: string;

  constructor(private readonly d: ExporterDeps) {
    this.where = `${srcLine(d.spec.src)} (bulk ${d.spec.name})`;
  }

  /**
   * Drives the export to its end; resolves with its final status. `stop` pauses (a restart, or
   * another runtime once the lease is free, continues); `cancel` ends it. Resolves `undefined`
   * when the lease was lost: another runtime continues it, and this one wrote nothing more.
   */
  async run(id: string, stop: AbortSignal, cancel: AbortSignal): Promise<ExportRow['status'] | undefined> {
    const { store, log } = this.d;
    const both = AbortSignal.any([stop, cancel]);
    try {
      let row = (await store.export(id))!;
      if (row.status === 'requested' || row.status === 'kickoff') row = await this.kickoff(row, both);
      if (row.status === 'polling') row = await this.poll(row, both);
      while (row.status === 'downloading') {
        await this.downloadAll(row, both);
        row = (await store.export(id))!;
        if (row.next_manifest) row = await this.manifest(row, row.next_manifest, both);
        else break;
      }
      const files = await store.files(id);
      const failed = files.filter((f) => f.status === 'failed');
      const error = failed.length ? `${failed.length} of ${files.length} files could not be read (${failed[0]!.error})` : undefined;
      await store.update(id, { status: failed.length ? 'failed' : 'done', finished_at: Date.now(), ...(error ? { error: `${this.where}: ${error}` } : {}) });
      // Done: the server may delete the files (IG: the client signals it is finished with DELETE).
      if (row.poll_url && !failed.length) await this.send('DELETE', row.poll_url, both).then((r) => r.body.resume(), () => undefined);
      const final = await this.emit(id);
      log.info({ bulk: this.d.spec.name, export: id, status: failed.length ? 'failed' : 'done', resources: final?.resources }, 'bulk export finished');
      return failed.length ? 'failed' : 'done';
    } catch (err) {
      if (err instanceof LeaseLost || (err as Error).cause instanceof LeaseLost) {
        log.warn({ bulk: this.d.spec.name, export: id }, 'bulk export: another runtime took it over; stopping here');
        return undefined;
      }
      if (cancel.aborted) return this.cancelled(id).catch((e) => (e instanceof LeaseLost ? undefined : Promise.reject(e)));
      if (stop.aborted) return (await store.export(id))?.status;
      const text = (err as Error).message;
      // Errors from the runtime's auth name the .hdc line already.
      const message = err instanceof ExportFailed || text.startsWith(srcLine(this.d.spec.src).split(':')[0]!) ? text : `${this.where}: ${text}`;
      await store.update(id, { status: 'failed', error: message, finished_at: Date.now() });
      await this.emit(id);
      log.error({ bulk: this.d.spec.name, export: id, error: err instanceof ExportFailed ? err.logged : message }, 'bulk export failed');
      return 'failed';
    }
  }

  private async cancelled(id: string): Promise<'cancelled'> {
    const row = (await this.d.store.export(id))!;
    if (row.poll_url) {
      // IG: DELETE on the status URL cancels the export and lets the server drop its files.
      const ctl = AbortSignal.timeout(30_000);
      await this.send('DELETE', row.poll_url, ctl).then((r) => r.body.resume(), (err) => this.d.log.warn({ bulk: this.d.spec.name, export: id, error: (err as Error).message }, 'bulk export: the cancel request failed'));
    }
    await this.d.store.update(id, { status: 'cancelled', finished_at: Date.now() });
    await this.emit(id);
    this.d.log.info({ bulk: this.d.spec.name, export: id }, 'bulk export cancelled');
    return 'cancelled';
  }

  private async emit(id: string): Promise<ExportRow | undefined> {
    const row = await this.d.store.export(id);
    if (row) this.d.onProgress?.(row);
    return row;
  }

  private async headers(accept: string, withToken: boolean): Promise<Record<string, string>> {
    const h: Record<string, string> = { accept };
    if (withToken && this.d.auth) h.authorization = await this.d.auth.authorization(this.d.spec.src);
    return h;
  }

  /** A request with the API's credentials; a 401 renews the token once and asks again. */
  private async send(method: string, url: string, signal: AbortSignal, opts: { accept?: string; body?: string; token?: boolean; extra?: Record<string, string> } = {}): Promise<HttpResponse> {
    const withToken = opts.token ?? true;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(await this.headers(opts.accept ?? 'application/fhir+json', withToken)), ...opts.extra };
      if (opts.body !== undefined) headers['content-type'] = 'application/fhir+json';
      const res = await this.d.http.request(url, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}), signal });
      if (res.status === 401 && withToken && this.d.auth && attempt === 0 && headers.authorization) {
        res.body.resume();
        if (await this.d.auth.refresh(headers.authorization, this.d.spec.src)) continue;
      }
      return res;
    }
  }

  private async kickoff(row: ExportRow, signal: AbortSignal): Promise<ExportRow> {
    const { spec, store } = this.d;
    const since = spec.since ? ('instant' in spec.since ? spec.since.instant : await store.lastSuccess(spec.name)) : undefined;
    const req = kickoffRequest(spec, this.d.baseUrl, since);
    await store.update(row.id, { status: 'kickoff', kickoff_url: req.url, ...(since ? { since } : {}) });
    let wait = this.d.timers.pollBaseMs;
    for (let tries = 1; ; tries++) {
      const res = await this.send(req.method, req.url, signal, { ...(req.body !== undefined ? { body: req.body } : {}), extra: { prefer: 'respond-async' } });
      const text = await res.text();
      if (res.status === 202) {
        const location = res.headers['content-location'];
        if (!location) throw new ExportFailed(`${this.where}: the server accepted the export but sent no Content-Location`);
        const pollUrl = new URL(String(location), req.url).toString();
        // Before anything else: a restart polls this URL instead of starting another export.
        await store.update(row.id, { status: 'polling', poll_url: pollUrl, source_id: await this.d.runs.source(`bulk/${spec.name}`, row.id, 'export') });
        this.d.log.info({ bulk: spec.name, export: row.id }, 'bulk export kicked off');
        return (await this.emit(row.id))!;
      }
      const outcome = readOutcome(text);
      // 429 and 503 (and transient outcomes): the server is busy; wait as asked and kick off again.
      if ((res.status === 429 || res.status === 503 || (res.status >= 500 && outcome?.transient)) && tries < 20) {
        const ms = retryAfterMs(res.headers['retry-after']) ?? wait;
        wait = Math.min(wait * 2, this.d.timers.pollMaxMs);
        this.d.log.warn({ bulk: spec.name, status: res.status, retryInMs: ms }, 'bulk export: kick-off refused for now; trying again');
        await sleep(ms, signal);
        continue;
      }
      const head = `${this.where}: the kick-off was refused with HTTP ${res.status}`;
      throw new ExportFailed(`${head}${outcome?.text ? `: ${outcome.text}` : ''}`, head);
    }
  }

  private async poll(row: ExportRow, signal: AbortSignal): Promise<ExportRow> {
    const { store, timers, spec } = this.d;
    const started = Date.now();
    let wait = timers.pollBaseMs;
    for (;;) {
      if (Date.now() - started > timers.exportTimeoutMs) throw new ExportFailed(`${this.where}: the export was not ready after ${Math.round(timers.exportTimeoutMs / 60_000)} minutes`);
      let res: HttpResponse;
      try {
        res = await this.send('GET', row.poll_url!, signal, { accept: 'application/json' });
      } catch (err) {
        if (signal.aborted) throw err;
        // The server unreachable for a moment is not the export failing.
        this.d.log.warn({ bulk: spec.name, error: (err as Error).message }, 'bulk export: status request failed; trying again');
        await sleep(wait, signal);
        wait = Math.min(wait * 2, timers.pollMaxMs);
        continue;
      }
      const text = await res.text();
      if (res.status === 200) return this.manifest(row, undefined, signal, text);
      const after = retryAfterMs(res.headers['retry-after']);
      if (res.status === 202) {
        const progress = res.headers['x-progress'];
        if (progress) {
          await store.update(row.id, { progress: String(progress).slice(0, 100) });
          await this.emit(row.id);
        }
        await sleep(after ?? wait, signal);
        if (after === undefined) wait = Math.min(wait * 2, timers.pollMaxMs);
        continue;
      }
      const outcome = readOutcome(text);
      if (res.status === 429 || res.status === 503 || (res.status >= 500 && (outcome === undefined || outcome.transient)) || (res.status >= 400 && outcome?.transient)) {
        this.d.log.warn({ bulk: spec.name, status: res.status }, 'bulk export: transient status error; polling again');
        await sleep(after ?? wait, signal);
        wait = Math.min(wait * 2, timers.pollMaxMs);
        continue;
      }
      throw new ExportFailed(`${this.where}: the export failed (HTTP ${res.status}${outcome?.text ? `: ${outcome.text}` : ''})`, `${this.where}: the export failed (HTTP ${res.status})`);
    }
  }

  /** Reads a manifest (the completed status response, or a `next` page) into file rows. */
  private async manifest(row: ExportRow, url: string | undefined, signal: AbortSignal, body?: string): Promise<ExportRow> {
    let text = body;
    if (text === undefined) {
      const res = await this.send('GET', url!, signal, { accept: 'application/json', token: true });
      text = await res.text();
      if (res.status !== 200) throw new ExportFailed(`${this.where}: the manifest page ${url} answered HTTP ${res.status}`);
    }
    let m: { transactionTime?: string; requiresAccessToken?: boolean; output?: Array<{ type: string; url: string; count?: number }>; error?: Array<{ type: string; url: string }>; deleted?: Array<{ type: string; url: string }>; link?: Array<{ relation: string; url: string }> };
    try {
      m = JSON.parse(text);
    } catch {
      throw new ExportFailed(`${this.where}: the completed export's manifest is not JSON`);
    }
    const files: ManifestFile[] = [
      ...(m.output ?? []).map((f) => ({ kind: 'output' as const, type: f.type, url: f.url, ...(typeof f.count === 'number' ? { count: f.count } : {}) })),
      ...(m.deleted ?? []).map((f) => ({ kind: 'deleted' as const, type: f.type, url: f.url })),
      ...(m.error ?? []).map((f) => ({ kind: 'error' as const, type: f.type, url: f.url })),
    ];
    const next = m.link?.find((l) => l.relation === 'next')?.url;
    const base = url ?? row.poll_url!;
    await this.d.store.addManifest(row.id, files.map((f) => ({ ...f, url: new URL(f.url, base).toString() })), {
      ...(m.transactionTime ? { transaction_time: m.transactionTime } : {}),
      ...(url === undefined ? { requires_token: m.requiresAccessToken ? 1 : 0 } : {}),
      next_manifest: next ? new URL(next, base).toString() : null,
    });
    return (await this.emit(row.id))!;
  }

  /** The files not done yet, `concurrency` at a time. */
  private async downloadAll(row: ExportRow, signal: AbortSignal): Promise<void> {
    const pending = (await this.d.store.files(row.id)).filter((f) => f.status === 'pending');
    const source = row.source_id ?? await this.d.runs.source(`bulk/${this.d.spec.name}`, row.id, 'export');
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        if (signal.aborted) throw signal.reason;
        const f = pending[next++]!;
        await this.downloadFile(row, f, source, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.spec.concurrency, pending.length) }, worker));
  }

  private async downloadFile(row: ExportRow, f: FileRow, source: number, signal: AbortSignal): Promise<void> {
    const { timers, store, log, spec } = this.d;
    const storeDir = spec.store ? join(this.d.dataDir, spec.store.folder.replaceAll('{date}', new Date(row.created_at).toISOString().slice(0, 10)).replaceAll('{name}', spec.name), row.id) : undefined;
    if (storeDir) mkdirSync(storeDir, { recursive: true });
    const reader = new FileReader({
      exportId: row.id, name: spec.name, file: f, source, routes: spec.routes, batchLines: timers.batchLines,
      queue: (b) => this.d.queue.commit(b), notify: () => undefined,
      transactionTime: row.transaction_time ?? '', ...(storeDir ? { keepAt: join(storeDir, `${f.idx}-${f.type}.${f.kind}.ndjson`) } : {}),
      onBatch: () => void this.emit(row.id).catch(() => undefined),
    });
    let wait = timers.downloadBackoffMs;
    for (let attempt = 1; ; attempt++) {
      const from = reader.position();
      try {
        const res = await this.send('GET', f.url, signal, {
          accept: 'application/fhir+ndjson', token: row.requires_token === 1,
          // Resume inside the file: only the bytes after the last line handed on (identity encoding, so offsets match).
          ...(from.bytes > 0 ? { extra: { range: `bytes=${from.bytes}-`, 'accept-encoding': 'identity' } } : {}),
        });
        if (res.status === 404 || res.status === 410) {
          res.body.resume();
          await store.finishFile(row.id, f.idx, 'failed', `HTTP ${res.status}: the file expired or is gone`);
          await store.recordError(row.id, f.idx, null, `file ${f.idx} (${f.type}) answered HTTP ${res.status}: expired`);
          log.error({ bulk: spec.name, export: row.id, file: f.idx, status: res.status }, 'bulk export: a file expired before it was read');
          return;
        }
        if (res.status !== 200 && res.status !== 206) {
          const text = await res.text();
          const transient = res.status >= 500 || res.status === 429 || readOutcome(text)?.transient;
          if (!transient) throw new ExportFailed(`${this.where}: file ${f.idx} (${f.type}) answered HTTP ${res.status}`);
          throw Object.assign(new Error(`HTTP ${res.status}`), { retryAfter: retryAfterMs(res.headers['retry-after']) });
        }
        const range = res.status === 206 ? /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? '')) : null;
        const resumedAt = range && Number(range[1]) === from.bytes ? from.bytes : 0;
        await reader.read(res.body, resumedAt);
        await store.finishFile(row.id, f.idx, 'done');
        await this.emit(row.id);
        return;
      } catch (err) {
        if (signal.aborted || err instanceof ExportFailed || err instanceof LeaseLost) throw err;
        if (attempt >= timers.downloadAttempts) {
          await store.finishFile(row.id, f.idx, 'failed', (err as Error).message);
          await store.recordError(row.id, f.idx, null, `file ${f.idx} (${f.type}) failed after ${attempt} attempts: ${(err as Error).message}`);
          log.error({ bulk: spec.name, export: row.id, file: f.idx, error: (err as Error).message }, 'bulk export: a file could not be downloaded');
          return;
        }
        const ms = (err as { retryAfter?: number }).retryAfter ?? wait;
        wait *= 2;
        log.warn({ bulk: spec.name, export: row.id, file: f.idx, attempt, retryInMs: ms, error: (err as Error).message }, 'bulk export: download interrupted; resuming');
        await sleep(ms, signal);
      }
    }
  }
}
