// A Bulk Data Access ($export) server for tests and benchmarks, on the in-memory FHIR server
// (fhir-server.ts, seeded from Synthea): system, patient and group level, GET or POST kick-off,
// `_type`, `_since`, `_typeFilter` (run as searches on the repository), ndjson files served with
// HTTP Range and optionally gzip, Backend Services tokens through `attachAuth`. Switches make it
// misbehave the ways real servers do: Retry-After as an HTTP-date or not at all, transient status
// errors, 429 on kick-off, downloads that fail or are cut mid-stream, partial manifests, an
// export that fails, files that expire, slow downloads (for kills and token expiry).
import { EventEmitter } from 'node:events';
import { createReadStream, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { parseSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { MemoryRepository } from '@medplum/fhir-router';
import { startFhirServer, type ExtraRouteContext, type FhirServer, type FhirServerOptions } from './fhir-server.ts';

export interface BulkSwitches {
  /** How 202 status answers say when to ask again (default 'seconds'). */
  retryAfter?: 'seconds' | 'http-date' | 'none';
  /** Status requests answered 202 before the manifest (default 2). */
  pollsBeforeReady?: number;
  /** The first N status requests fail with 503 and a transient OperationOutcome. */
  transientPollErrors?: number;
  /** The first N kick-offs answer 429 with Retry-After: 1 (seconds, or 0 for tests: see retryAfterSeconds). */
  kickoff429?: number;
  /** The first N requests of each file answer 500. */
  failDownloads?: number;
  /** The first request of each file is cut (socket destroyed) after this many lines. */
  cutAfterLines?: number;
  /** Files are sent gzip-encoded to clients that accept it (then without Range). */
  gzip?: boolean;
  /** Honour Range requests (default true). */
  range?: boolean;
  /** Files per manifest page: the rest follow `link` next. */
  filesPerPage?: number;
  /** The export fails: the status answers 500 with a (non-transient) OperationOutcome. */
  failExport?: boolean;
  /** Files answer 410 Gone once the manifest was sent. */
  expireFiles?: boolean;
  /** Lines per file (default: one file per type). */
  linesPerFile?: number;
  /** Lines written per chunk, and a pause between chunks (slow downloads). */
  throttle?: { lines: number; pauseMs: number };
  /** An error[] file with this many OperationOutcomes. */
  errorOutcomes?: number;
  /** A deleted[] file naming these resources ("Patient/123"). */
  deleted?: string[];
  /** Add a line that is not JSON and one of another type to the first file. */
  badLines?: boolean;
  /** Value of the Retry-After seconds (default 0 for fast tests; 1 shows real waits). */
  retryAfterSeconds?: number;
  /** The manifest's requiresAccessToken (default true). */
  requiresAccessToken?: boolean;
}

export interface ServedFile { type: string; kind: 'output' | 'error' | 'deleted'; lines: Buffer[] | { path: string; lines: number } }

export interface BulkExportJob {
  id: string;
  level: string;
  params: Record<string, string[]>;
  polls: number;
  deleted: boolean;
  files: ServedFile[];
}

export interface BulkExportServer {
  fhir: FhirServer;
  baseUrl: string;
  switches: BulkSwitches;
  jobs: Map<string, BulkExportJob>;
  /** `kickoff` (job), `line-served` (job id, file index, lines so far), `cancelled` (job id), `status` (job id, HTTP status). */
  events: EventEmitter;
  /** Resources of each type the last export included (what a client must end up with). */
  counts(jobId: string): Record<string, number>;
  /** Replaces the content of exports with files read from disk (benchmarks): ndjson, one per entry. */
  serveFiles(files: Array<{ type: string; path: string; lines: number }>): void;
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json';
const outcome = (code: string, text: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] });

export async function startBulkExportServer(switches: BulkSwitches = {}, opts: FhirServerOptions = { seed: 'synthea' }): Promise<BulkExportServer> {
  const jobs = new Map<string, BulkExportJob>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let kickoffs = 0;
  let statusCalls = 0;
  const fileRequests = new Map<string, number>();
  let fixed: Array<{ type: string; path: string; lines: number }> | undefined;
  let nextId = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': `${FHIR_JSON}; charset=utf-8`, 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
    return true;
  };

  const retryAfter = (): Record<string, string> => {
    const s = switches.retryAfterSeconds ?? 0;
    if (switches.retryAfter === 'none') return {};
    if (switches.retryAfter === 'http-date') return { 'retry-after': new Date(Date.now() + s * 1000).toUTCString() };
    return { 'retry-after': String(s) };
  };

  async function kickoff(ctx: ExtraRouteContext, level: string, group?: string): Promise<boolean> {
    const { req, res, url, body, repo } = ctx;
    if (req.headers.prefer !== 'respond-async') return json(res, 400, outcome('invalid', 'Prefer: respond-async is required'));
    if (!String(req.headers.accept ?? '').includes(FHIR_JSON)) return json(res, 400, outcome('invalid', 'Accept: application/fhir+json is required'));
    if (kickoffs++ < (switches.kickoff429 ?? 0)) return json(res, 429, outcome('throttled', 'too many exports'), { 'retry-after': String(switches.retryAfterSeconds ?? 0) });
    const params: Record<string, string[]> = {};
    const add = (k: string, v: string) => (params[k] ??= []).push(v);
    if (ctx.method === 'POST') {
      for (const p of (body as { parameter?: Array<Record<string, unknown>> })?.parameter ?? []) {
        const v = p.valueString ?? p.valueInstant ?? (p.valueReference as { reference?: string })?.reference;
        if (typeof v === 'string' && typeof p.name === 'string') add(p.name, v);
      }
    } else for (const [k, v] of url.searchParams) add(k, v);
    const fmt = params._outputFormat?.[0];
    if (fmt && !['application/fhir+ndjson', 'application/ndjson', 'ndjson'].includes(fmt)) return json(res, 400, outcome('not-supported', `_outputFormat ${fmt}`));
    const id = `job${++nextId}`;
    const job: BulkExportJob = { id, level: group ? `group:${group}` : level, params, polls: 0, deleted: false, files: await buildFiles(repo, level, group, params) };
    jobs.set(id, job);
    events.emit('kickoff', job);
    res.writeHead(202, { 'content-location': `${ctx.baseUrl}/$bulk-status/${id}`, 'content-length': '0' });
    res.end();
    return true;
  }

  async function buildFiles(repo: MemoryRepository, level: string, group: string | undefined, params: Record<string, string[]>): Promise<ServedFile[]> {
    const types = params._type?.flatMap((t) => t.split(',')) ?? ['Patient', 'Encounter', 'Observation', 'Condition'];
    if (fixed) return fixed.filter((f) => types.includes(f.type)).map((f) => ({ type: f.type, kind: 'output', lines: { path: f.path, lines: f.lines } }));
    let patients: Set<string> | undefined;
    if (level === 'group') {
      const g = await repo.readResource('Group', group!).catch(() => undefined) as { member?: Array<{ entity?: { reference?: string } }> } | undefined;
      patients = new Set((g?.member ?? []).map((m) => m.entity?.reference ?? ''));
    } else if (level === 'patient') {
      patients = new Set((await repo.searchResources(parseSearchRequest('Patient?_count=10000'))).map((p) => `Patient/${p.id}`));
    }
    if (params.patient) patients = new Set(params.patient.filter((p) => !patients || patients.has(p)));
    const since = params._since?.[0] ? Date.parse(params._since[0]) : undefined;
    const filters = (params._typeFilter ?? []).flatMap((f) => f.split(/,(?=[A-Z][A-Za-z]+\?)/));
    const files: ServedFile[] = [];
    for (const type of types) {
      const queries = filters.filter((f) => f.startsWith(`${type}?`));
      const found = new Map<string, Resource>();
      for (const q of queries.length ? queries : [`${type}?`]) {
        for (const r of await repo.searchResources(parseSearchRequest(`${q}${q.endsWith('?') ? '' : '&'}_count=100000`))) found.set(r.id!, r);
      }
      const keep = [...found.values()].filter((r) => {
        if (since !== undefined && Date.parse(r.meta?.lastUpdated ?? '') < since) return false;
        if (!patients) return true;
        if (r.resourceType === 'Patient') return patients.has(`Patient/${r.id}`);
        const text = JSON.stringify(r);
        return [...patients].some((p) => text.includes(`"${p}"`));
      });
      const lines = keep.map((r) => Buffer.from(JSON.stringify(r) + '\n'));
      if (switches.badLines && files.length === 0 && lines.length) lines.splice(1, 0, Buffer.from('{not json\n'), Buffer.from('{"resourceType":"Basic","id":"stray"}\n'));
      const per = switches.linesPerFile ?? Math.max(1, lines.length);
      for (let i = 0; i < lines.length; i += per) files.push({ type, kind: 'output', lines: lines.slice(i, i + per) });
    }
    if (switches.errorOutcomes) {
      files.push({ type: 'OperationOutcome', kind: 'error', lines: Array.from({ length: switches.errorOutcomes }, (_, i) => Buffer.from(JSON.stringify(outcome('processing', `resource ${i} could not be exported`)) + '\n')) });
    }
    if (switches.deleted?.length) {
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: switches.deleted.map((ref) => ({ request: { method: 'DELETE', url: ref } })) };
      files.push({ type: 'Bundle', kind: 'deleted', lines: [Buffer.from(JSON.stringify(bundle) + '\n')] });
    }
    return files;
  }

  function status(ctx: ExtraRouteContext, id: string, page: number): boolean {
    const { res, method } = ctx;
    const job = jobs.get(id);
    if (!job) return json(res, 404, outcome('not-found', 'no such export'));
    if (job.deleted) return json(res, 404, outcome('not-found', 'the export was deleted'));
    if (method === 'DELETE') {
      job.deleted = true;
      events.emit('cancelled', id);
      res.writeHead(202, { 'content-length': '0' });
      res.end();
      return true;
    }
    if (page === 0 && statusCalls++ < (switches.transientPollErrors ?? 0)) {
      events.emit('status', id, 503);
      return json(res, 503, outcome('transient', 'the export service is busy'), retryAfter());
    }
    if (switches.failExport) {
      events.emit('status', id, 500);
      return json(res, 500, outcome('processing', 'the export could not be completed'));
    }
    if (page === 0 && job.polls++ < (switches.pollsBeforeReady ?? 2)) {
      events.emit('status', id, 202);
      res.writeHead(202, { 'x-progress': `${Math.min(99, job.polls * 30)}% done`, 'content-length': '0', ...retryAfter() });
      res.end();
      return true;
    }
    events.emit('status', id, 200);
    const all = job.files.map((f, i) => ({ f, i }));
    const per = switches.filesPerPage ?? all.length;
    const pageFiles = all.slice(page * per, (page + 1) * per);
    const link = (page + 1) * per < all.length ? [{ relation: 'next', url: `${ctx.baseUrl}/$bulk-status/${id}/page/${page + 1}` }] : undefined;
    const entry = ({ f, i }: { f: ServedFile; i: number }) => ({ type: f.type, url: `${ctx.baseUrl}/$bulk-file/${id}/${i}`, ...(f.kind === 'output' ? { count: Array.isArray(f.lines) ? f.lines.length : f.lines.lines } : {}) });
    return json(res, 200, {
      transactionTime: new Date().toISOString(),
      request: job.level,
      requiresAccessToken: switches.requiresAccessToken ?? true,
      output: pageFiles.filter(({ f }) => f.kind === 'output').map(entry),
      deleted: pageFiles.filter(({ f }) => f.kind === 'deleted').map(entry),
      error: pageFiles.filter(({ f }) => f.kind === 'error').map(entry),
      ...(link ? { link } : {}),
    });
  }

  function file(ctx: ExtraRouteContext, id: string, index: number): boolean {
    const { req, res } = ctx;
    const job = jobs.get(id);
    const f = job?.files[index];
    if (!job || !f || job.deleted) return json(res, 404, outcome('not-found', 'no such file'));
    if (switches.expireFiles) return json(res, 410, outcome('not-found', 'the file expired'));
    const key = `${id}/${index}`;
    const nth = (fileRequests.get(key) ?? 0) + 1;
    fileRequests.set(key, nth);
    if (nth <= (switches.failDownloads ?? 0)) return json(res, 500, outcome('exception', 'the file store failed'));
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const gzip = switches.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const from = range && switches.range !== false && !gzip ? Number(range[1]) : 0;
    const cut = nth === 1 ? switches.cutAfterLines : undefined;
    const head = { 'content-type': 'application/fhir+ndjson', 'accept-ranges': switches.range === false ? 'none' : 'bytes' };
    if (!Array.isArray(f.lines)) {
      const size = statSync(f.lines.path).size;
      res.writeHead(from ? 206 : 200, { ...head, 'content-length': String(size - from), ...(from ? { 'content-range': `bytes ${from}-${size - 1}/${size}` } : {}) });
      createReadStream(f.lines.path, { start: from, highWaterMark: 1 << 16 }).pipe(res);
      return true;
    }
    const lines = f.lines;
    const total = lines.reduce((n, l) => n + l.length, 0);
    if (gzip) {
      const body = gzipSync(Buffer.concat(lines));
      res.writeHead(200, { ...head, 'content-encoding': 'gzip', 'content-length': String(body.length) });
      if (cut !== undefined) {
        // Cut inside the compressed stream: the client's gunzip must fail, not end quietly.
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
        return true;
      }
      res.end(body);
      return true;
    }
    // Skip whole lines up to `from` (a client resumes at a line boundary).
    let skip = 0;
    let at = 0;
    while (skip < lines.length && at + lines[skip]!.length <= from) at += lines[skip++]!.length;
    res.writeHead(from ? 206 : 200, { ...head, 'content-length': String(total - at), ...(from ? { 'content-range': `bytes ${at}-${total - 1}/${total}` } : {}) });
    const step = switches.throttle?.lines ?? 200;
    let i = skip;
    const pump = () => {
      if (res.destroyed) return;
      const end = Math.min(lines.length, i + step);
      const stopAt = cut !== undefined ? Math.min(end, cut) : end;
      const chunk = Buffer.concat(lines.slice(i, stopAt));
      i = stopAt;
      events.emit('line-served', id, index, i);
      if (cut !== undefined && i >= cut) {
        // Half of the next line too, then the connection drops.
        res.write(Buffer.concat([chunk, lines[i]?.subarray(0, Math.floor((lines[i]?.length ?? 0) / 2)) ?? Buffer.alloc(0)]), () => res.destroy());
        return;
      }
      if (i >= lines.length) return void res.end(chunk);
      const more = res.write(chunk);
      const next = () => (switches.throttle ? setTimeout(pump, switches.throttle.pauseMs) : setImmediate(pump));
      if (more) next();
      else res.once('drain', next);
    };
    pump();
    return true;
  }

  const fhir = await startFhirServer({
    ...opts,
    routes: async (ctx) => {
      const p = ctx.path;
      let m: RegExpExecArray | null;
      if (p === '$export' && (ctx.method === 'GET' || ctx.method === 'POST')) return kickoff(ctx, 'system');
      if (p === 'Patient/$export' && (ctx.method === 'GET' || ctx.method === 'POST')) return kickoff(ctx, 'patient');
      if ((m = /^Group\/([^/]+)\/\$export$/.exec(p)) && (ctx.method === 'GET' || ctx.method === 'POST')) return kickoff(ctx, 'group', decodeURIComponent(m[1]!));
      if ((m = /^\$bulk-status\/([^/]+)(?:\/page\/(\d+))?$/.exec(p))) return status(ctx, m[1]!, Number(m[2] ?? 0));
      if ((m = /^\$bulk-file\/([^/]+)\/(\d+)$/.exec(p)) && ctx.method === 'GET') return file(ctx, m[1]!, Number(m[2]));
      return false;
    },
  });

  return {
    fhir, baseUrl: fhir.baseUrl, switches, jobs, events,
    counts(jobId) {
      const out: Record<string, number> = {};
      for (const f of jobs.get(jobId)?.files ?? []) {
        if (f.kind !== 'output') continue;
        const n = Array.isArray(f.lines) ? f.lines.filter((l) => { try { return JSON.parse(l.toString()).resourceType === f.type; } catch { return false; } }).length : f.lines.lines;
        out[f.type] = (out[f.type] ?? 0) + n;
      }
      return out;
    },
    serveFiles(files) {
      fixed = files;
    },
    close: () => fhir.close(),
  };
}
